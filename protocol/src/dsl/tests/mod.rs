//! Unit tests of the `.fbp` parser and serializer.

mod errors;
mod parse;
mod roundtrip;
mod serialize;
