//! The file report: one JSON document that is valid after every write. Entries go into an
//! array; each write replaces the closing `]}` with the new entries and a fresh `]}`, so a
//! crash loses at most what was not yet written (one message interval) and a finished file
//! is complete.

use std::fmt::Write as _;
use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::path::Path;

const TAIL: &str = "\n]}\n";

/// An open report file.
pub struct Report {
    file: File,
    /// Whether an entry was made (the next one needs a separator).
    any: bool,
    /// Entries formatted since the last write (allocated once, reused).
    pending: String,
}

impl Report {
    /// Creates (truncates) `path` and writes the head with the stream's `description`
    /// (a JSON object's members, e.g. `"width":720`).
    pub fn create(path: &Path, description: &str) -> std::io::Result<Self> {
        let mut file = File::create(path)?;
        write!(
            file,
            "{{\"format\":\"gst-media-ai qc report 1\",{description},\"entries\":[{TAIL}"
        )?;
        file.flush()?;
        Ok(Report {
            file,
            any: false,
            pending: String::with_capacity(64 * 1024),
        })
    }

    /// Adds one entry (a JSON object's members), kept in memory until [`Report::write`].
    pub fn entry(&mut self, members: std::fmt::Arguments) {
        let sep = if std::mem::replace(&mut self.any, true) {
            ",\n"
        } else {
            "\n"
        };
        let _ = write!(self.pending, "{sep}{{{members}}}");
    }

    /// Writes the pending entries, keeping the file valid JSON.
    pub fn write(&mut self) -> std::io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        self.file.seek(SeekFrom::End(-(TAIL.len() as i64)))?;
        self.file.write_all(self.pending.as_bytes())?;
        self.file.write_all(TAIL.as_bytes())?;
        self.file.flush()?;
        self.pending.clear();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_is_valid_after_every_write() {
        let path = std::env::temp_dir().join(format!("qc-report-{}.json", std::process::id()));
        let mut r = Report::create(&path, "\"width\":4").unwrap();
        let text = |p: &Path| std::fs::read_to_string(p).unwrap();
        assert_eq!(
            text(&path),
            "{\"format\":\"gst-media-ai qc report 1\",\"width\":4,\"entries\":[\n]}\n"
        );
        r.entry(format_args!("\"t\":{}", 1));
        r.entry(format_args!("\"t\":{}", 2));
        r.write().unwrap();
        r.entry(format_args!("\"t\":{}", 3));
        r.write().unwrap();
        assert_eq!(
            text(&path),
            "{\"format\":\"gst-media-ai qc report 1\",\"width\":4,\"entries\":[\n{\"t\":1},\n{\"t\":2},\n{\"t\":3}\n]}\n"
        );
        std::fs::remove_file(&path).ok();
    }
}
