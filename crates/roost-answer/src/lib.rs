//! Chat logic shared by the server and the device.
