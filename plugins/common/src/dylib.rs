//! Checks a shared library before it is loaded at run time (ONNX Runtime's WebGPU provider,
//! DeepFilterNet's runtime). A library cut short, as an interrupted download or a full disk
//! leaves it, is not refused by the dynamic loader: it maps the segments the file no longer
//! holds and the process dies of SIGBUS when they are touched. Reading the ELF headers first
//! turns that into an error that says what to do.

use std::io::Read;
use std::path::Path;

const PT_LOAD: u32 = 1;

/// `Ok` when `path` is a 64-bit little-endian ELF file holding every byte its headers name
/// (loadable segments, program and section header tables); `Err` says what is wrong.
pub fn check_elf(path: &Path) -> Result<(), String> {
    let bad = |why: &str| format!("{} {why}", path.display());
    let mut file = std::fs::File::open(path).map_err(|e| bad(&format!("cannot be read: {e}")))?;
    let len = file
        .metadata()
        .map_err(|e| bad(&format!("cannot be read: {e}")))?
        .len();
    let mut header = [0u8; 64];
    file.read_exact(&mut header)
        .map_err(|_| bad("is too short to be a shared library"))?;
    if &header[..4] != b"\x7fELF" || header[4] != 2 || header[5] != 1 {
        return Err(bad("is not a 64-bit little-endian ELF shared library"));
    }
    let u16_at = |b: &[u8], at: usize| u16::from_le_bytes([b[at], b[at + 1]]) as u64;
    let u32_at = |b: &[u8], at: usize| u32::from_le_bytes(b[at..at + 4].try_into().unwrap());
    let u64_at = |b: &[u8], at: usize| u64::from_le_bytes(b[at..at + 8].try_into().unwrap());
    let (phoff, shoff) = (u64_at(&header, 32), u64_at(&header, 40));
    let (phentsize, phnum) = (u16_at(&header, 54), u16_at(&header, 56));
    let (shentsize, shnum) = (u16_at(&header, 58), u16_at(&header, 60));
    let ends = |at: u64, size: u64| at.checked_add(size).is_some_and(|end| end <= len);
    let cut = || bad(&format!("is cut short ({len} bytes)"));
    if phentsize < 56 || !ends(phoff, phentsize * phnum) || !ends(shoff, shentsize * shnum) {
        return Err(cut());
    }
    let mut table = vec![0u8; (phentsize * phnum) as usize];
    std::io::Seek::seek(&mut file, std::io::SeekFrom::Start(phoff))
        .and_then(|_| file.read_exact(&mut table))
        .map_err(|_| cut())?;
    for entry in table.chunks_exact(phentsize as usize) {
        if u32_at(entry, 0) == PT_LOAD && !ends(u64_at(entry, 8), u64_at(entry, 32)) {
            return Err(cut());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_libraries_pass_and_cut_or_foreign_files_do_not() {
        // Any shared library of this machine: the C library is always there.
        let whole = [
            "/lib/x86_64-linux-gnu/libc.so.6",
            "/usr/lib/x86_64-linux-gnu/libc.so.6",
        ]
        .iter()
        .map(Path::new)
        .find(|p| p.is_file());
        let Some(whole) = whole else {
            eprintln!("no libc.so.6 found: skipped");
            return;
        };
        check_elf(whole).unwrap();
        let bytes = std::fs::read(whole).unwrap();
        let dir = std::env::temp_dir().join(format!("mediaai-dylib-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let cut = dir.join("cut.so");
        std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
        assert!(check_elf(&cut).unwrap_err().contains("cut short"));
        let text = dir.join("text.so");
        std::fs::write(
            &text,
            b"not a library at all, but long enough to have a header..........",
        )
        .unwrap();
        assert!(check_elf(&text).unwrap_err().contains("not a 64-bit"));
        assert!(check_elf(&dir.join("absent.so")).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
