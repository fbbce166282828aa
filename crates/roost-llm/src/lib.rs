//! Streaming LLM clients (Gemini, OpenAI-compatible).
