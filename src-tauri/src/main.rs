// No console window behind the app on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    roost_desktop::tune_malloc();
    roost_desktop::run();
}
