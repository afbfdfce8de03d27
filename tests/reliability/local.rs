//! stub
use crate::download_support::Rng;
pub fn run(_rng: &mut Rng) {}
