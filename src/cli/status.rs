//! Status lines in cargo's style: a right-aligned, coloured label, then the text.

use std::io::{self, Write};

use anstyle::Style;

/// Width of the label column.
pub const LABEL_WIDTH: usize = 12;

/// `label  value` with the label right-aligned in `style`; further lines of `value` are
/// indented under the first.
pub fn status(out: &mut dyn Write, label: &str, style: Style, value: &str) -> io::Result<()> {
    let mut lines = value.lines();
    let first = lines.next().unwrap_or("");
    writeln!(out, "{style}{label:>LABEL_WIDTH$}{style:#}  {first}")?;
    for line in lines {
        writeln!(out, "{:LABEL_WIDTH$}  {line}", "")?;
    }
    Ok(())
}
