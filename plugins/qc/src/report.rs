//! The file report, JSON or MessagePack, valid after every write so that a crash loses at
//! most what was not yet written (one message interval) and a finished file is complete.
//!
//! * JSON: one document, `{head members…, "entries": [ … ]}`; each write replaces the closing
//!   `]}` with the new entries and a fresh `]}`.
//! * MessagePack: a stream of maps, the head first, then one map per entry, appended.

use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::path::Path;

const TAIL: &[u8] = b"\n]}\n";

/// The frame entries of a JSON report this element wrote, as (`pts` in seconds, fingerprint),
/// in file order; lines that are not frame entries, or whose values do not read, are passed
/// over. Never panics, whatever the text (fuzzed: `make fuzz`).
pub fn read_fingerprints(text: &str) -> Vec<(f64, u64)> {
    fn value<'a>(l: &'a str, key: &str) -> Option<&'a str> {
        let at = l.find(key)? + key.len();
        l[at..].split([',', '}', '"']).next()
    }
    text.lines()
        .filter(|l| l.contains("\"fp\":"))
        .filter_map(|l| {
            let pts: f64 = value(l, "\"pts\":")?.trim().parse().ok()?;
            let fp = u64::from_str_radix(value(l, "\"fp\":\"")?, 16).ok()?;
            Some((pts, fp))
        })
        .collect()
}

/// Report file formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Json,
    MessagePack,
}

/// One value of an entry.
#[derive(Clone, Copy, Debug)]
pub enum Value<'a> {
    /// Written with six decimals in JSON; a non-finite number is `null`.
    Num(f64),
    Int(u64),
    Bool(bool),
    Str(&'a str),
    Nums(&'a [f64]),
}

/// An open report file.
pub struct Report {
    file: File,
    format: Format,
    /// Whether an entry was made (JSON: the next one needs a separator).
    any: bool,
    /// Entries encoded since the last write (allocated once, reused).
    pending: Vec<u8>,
}

impl Report {
    /// Creates (truncates) `path` and writes the head: `head` describes the stream.
    pub fn create(path: &Path, format: Format, head: &[(&str, Value)]) -> std::io::Result<Self> {
        let mut r = Report {
            file: File::create(path)?,
            format,
            any: false,
            pending: Vec::with_capacity(64 * 1024),
        };
        let mut first = Vec::new();
        let report = [("format", Value::Str("gst-media-ai qc report 1"))];
        match format {
            Format::Json => {
                first.push(b'{');
                for (i, (k, v)) in report.iter().chain(head).enumerate() {
                    if i > 0 {
                        first.push(b',');
                    }
                    json_member(&mut first, k, *v);
                }
                first.extend_from_slice(b",\"entries\":[");
                first.extend_from_slice(TAIL);
            }
            Format::MessagePack => {
                let all: Vec<(&str, Value)> = report.iter().chain(head).copied().collect();
                msgpack_map(&mut first, &all);
            }
        }
        r.file.write_all(&first)?;
        r.file.flush()?;
        Ok(r)
    }

    /// Adds one entry, kept in memory until [`Report::write`].
    pub fn entry(&mut self, members: &[(&str, Value)]) {
        match self.format {
            Format::Json => {
                let sep: &[u8] = if std::mem::replace(&mut self.any, true) {
                    b",\n{"
                } else {
                    b"\n{"
                };
                self.pending.extend_from_slice(sep);
                for (i, (k, v)) in members.iter().enumerate() {
                    if i > 0 {
                        self.pending.push(b',');
                    }
                    json_member(&mut self.pending, k, *v);
                }
                self.pending.push(b'}');
            }
            Format::MessagePack => msgpack_map(&mut self.pending, members),
        }
    }

    /// Writes the pending entries, keeping the file valid.
    pub fn write(&mut self) -> std::io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        if self.format == Format::Json {
            self.file.seek(SeekFrom::End(-(TAIL.len() as i64)))?;
        }
        self.file.write_all(&self.pending)?;
        if self.format == Format::Json {
            self.file.write_all(TAIL)?;
        }
        self.file.flush()?;
        self.pending.clear();
        Ok(())
    }
}

fn json_member(out: &mut Vec<u8>, key: &str, v: Value) {
    json_str(out, key);
    out.push(b':');
    let num = |out: &mut Vec<u8>, x: f64| {
        if x.is_finite() {
            let _ = write!(out, "{x:.6}");
        } else {
            out.extend_from_slice(b"null");
        }
    };
    match v {
        Value::Num(x) => num(out, x),
        Value::Int(x) => {
            let _ = write!(out, "{x}");
        }
        Value::Bool(b) => out.extend_from_slice(if b { b"true" } else { b"false" }),
        Value::Str(s) => json_str(out, s),
        Value::Nums(xs) => {
            out.push(b'[');
            for (i, &x) in xs.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                num(out, x);
            }
            out.push(b']');
        }
    }
}

fn json_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    for c in s.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => {
                let mut b = [0; 4];
                out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
            }
        }
    }
    out.push(b'"');
}

fn msgpack_map(out: &mut Vec<u8>, members: &[(&str, Value)]) {
    let n = members.len();
    if n < 16 {
        out.push(0x80 | n as u8);
    } else {
        out.push(0xde);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    }
    for (k, v) in members {
        msgpack_str(out, k);
        match *v {
            Value::Num(x) if x.is_finite() => {
                out.push(0xcb);
                out.extend_from_slice(&x.to_be_bytes());
            }
            Value::Num(_) => out.push(0xc0),
            Value::Int(x) => {
                out.push(0xcf);
                out.extend_from_slice(&x.to_be_bytes());
            }
            Value::Bool(b) => out.push(if b { 0xc3 } else { 0xc2 }),
            Value::Str(s) => msgpack_str(out, s),
            Value::Nums(xs) => {
                if xs.len() < 16 {
                    out.push(0x90 | xs.len() as u8);
                } else {
                    out.push(0xdc);
                    out.extend_from_slice(&(xs.len() as u16).to_be_bytes());
                }
                for &x in xs {
                    out.push(0xcb);
                    out.extend_from_slice(&x.to_be_bytes());
                }
            }
        }
    }
}

fn msgpack_str(out: &mut Vec<u8>, s: &str) {
    let b = s.as_bytes();
    match b.len() {
        n if n < 32 => out.push(0xa0 | n as u8),
        n if n < 256 => out.extend_from_slice(&[0xd9, n as u8]),
        n => {
            out.push(0xda);
            out.extend_from_slice(&(n.min(u16::MAX as usize) as u16).to_be_bytes());
        }
    }
    out.extend_from_slice(&b[..b.len().min(u16::MAX as usize)]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_valid_after_every_write() {
        let path = std::env::temp_dir().join(format!("qc-report-{}.json", std::process::id()));
        let mut r = Report::create(&path, Format::Json, &[("width", Value::Int(4))]).unwrap();
        let text = |p: &Path| std::fs::read_to_string(p).unwrap();
        assert_eq!(
            text(&path),
            "{\"format\":\"gst-media-ai qc report 1\",\"width\":4,\"entries\":[\n]}\n"
        );
        r.entry(&[("t", Value::Num(1.0)), ("x", Value::Nums(&[0.5, f64::NAN]))]);
        r.entry(&[("event", Value::Str("black")), ("ok", Value::Bool(true))]);
        r.write().unwrap();
        r.entry(&[("t", Value::Num(3.0))]);
        r.write().unwrap();
        assert_eq!(
            text(&path),
            "{\"format\":\"gst-media-ai qc report 1\",\"width\":4,\"entries\":[\n\
             {\"t\":1.000000,\"x\":[0.500000,null]},\n{\"event\":\"black\",\"ok\":true},\n\
             {\"t\":3.000000}\n]}\n"
        );
        std::fs::remove_file(&path).ok();
    }

    #[test]
    fn messagepack_is_a_stream_of_maps() {
        let path = std::env::temp_dir().join(format!("qc-report-{}.msgpack", std::process::id()));
        let mut r = Report::create(&path, Format::MessagePack, &[("w", Value::Int(4))]).unwrap();
        r.entry(&[("t", Value::Num(1.5)), ("ok", Value::Bool(false))]);
        r.write().unwrap();
        let bytes = std::fs::read(&path).unwrap();
        std::fs::remove_file(&path).ok();
        let mut head = vec![0x82, 0xa6];
        head.extend_from_slice(b"format");
        head.extend_from_slice(&[0xb8]);
        head.extend_from_slice(b"gst-media-ai qc report 1");
        head.extend_from_slice(&[0xa1, b'w', 0xcf, 0, 0, 0, 0, 0, 0, 0, 4]);
        let mut entry = vec![0x82, 0xa1, b't', 0xcb];
        entry.extend_from_slice(&1.5f64.to_be_bytes());
        entry.extend_from_slice(&[0xa2, b'o', b'k', 0xc2]);
        assert_eq!(bytes, [head, entry].concat());
    }
}
