//! `H` rules: hyper-parameters and model/region choices (spec §3, §4), checked by `plan`.

use super::Rule;

pub const RULES: &[&Rule] = &[];
