//! Tests over hand-built sources: the grounded answerer, the prompt, the grounding check, and
//! properties over random sources.

mod fixtures;
mod grounded;
mod grounding;
mod prompt;
mod props;
