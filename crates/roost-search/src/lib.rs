//! Search engine.
