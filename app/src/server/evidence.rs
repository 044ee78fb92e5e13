//! Evidence as teams hand it in: a `playpen eval` results folder, or a `.zip`
//! or `.tar.gz` of one. Archives are unpacked into a scratch folder, with
//! every entry checked first: nothing lands outside that folder, links are
//! refused, and the unpacked size and entry count are capped.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};

#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_archive_bytes: u64,
    pub max_unpacked_bytes: u64,
    pub max_entries: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_archive_bytes: 20 << 20, max_unpacked_bytes: 200 << 20, max_entries: 20_000 }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    #[error("{0}: cannot read: {1}")]
    Read(String, io::Error),
    #[error("the archive is {size} bytes, over the limit of {limit}")]
    TooLarge { size: u64, limit: u64 },
    #[error("neither a folder, a .zip nor a .tar.gz archive")]
    UnknownFormat,
    #[error("the archive is damaged: {0}")]
    Damaged(String),
    #[error("entry \"{0}\" would land outside the results folder")]
    Escapes(String),
    #[error("entry \"{0}\" is a link; links are not accepted")]
    Link(String),
    #[error("the archive unpacks to more than {0} bytes")]
    UnpacksTooLarge(u64),
    #[error("the archive has more than {0} entries")]
    TooManyEntries(usize),
    #[error("no <model>.val.json in the archive: is this the folder `playpen eval` wrote?")]
    NoResults,
}

/// An entry's path inside the scratch folder; refused if it could point anywhere else.
fn safe_relative(name: &str) -> Result<PathBuf, EvidenceError> {
    let path = Path::new(name);
    let mut clean = PathBuf::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => clean.push(part),
            Component::CurDir => {}
            _ => return Err(EvidenceError::Escapes(name.to_string())),
        }
    }
    Ok(clean)
}

/// Writes at most `budget` bytes of `reader` to `path`; errors past the budget.
fn write_capped(reader: &mut impl Read, path: &Path, budget: &mut u64, limit: u64) -> Result<(), EvidenceError> {
    let io_error = |e: io::Error| EvidenceError::Read(path.display().to_string(), e);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io_error)?;
    }
    let mut file = File::create(path).map_err(io_error)?;
    let written = io::copy(&mut reader.take(*budget + 1), &mut file).map_err(io_error)?;
    if written > *budget {
        return Err(EvidenceError::UnpacksTooLarge(limit));
    }
    *budget -= written;
    Ok(())
}

fn unpack_zip(file: File, dest: &Path, limits: &Limits) -> Result<(), EvidenceError> {
    let mut archive = zip::ZipArchive::new(file).map_err(|e| EvidenceError::Damaged(e.to_string()))?;
    if archive.len() > limits.max_entries {
        return Err(EvidenceError::TooManyEntries(limits.max_entries));
    }
    let mut budget = limits.max_unpacked_bytes;
    for index in 0..archive.len() {
        let mut entry = archive.by_index(index).map_err(|e| EvidenceError::Damaged(e.to_string()))?;
        let name = entry.name().to_string();
        let relative = safe_relative(&name)?;
        if entry.is_symlink() {
            return Err(EvidenceError::Link(name));
        }
        if entry.is_dir() {
            continue;
        }
        write_capped(&mut entry, &dest.join(relative), &mut budget, limits.max_unpacked_bytes)?;
    }
    Ok(())
}

fn unpack_tar_gz(file: File, dest: &Path, limits: &Limits) -> Result<(), EvidenceError> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let entries = archive.entries().map_err(|e| EvidenceError::Damaged(e.to_string()))?;
    let mut budget = limits.max_unpacked_bytes;
    for (count, entry) in entries.enumerate() {
        if count >= limits.max_entries {
            return Err(EvidenceError::TooManyEntries(limits.max_entries));
        }
        let mut entry = entry.map_err(|e| EvidenceError::Damaged(e.to_string()))?;
        let name = entry.path().map_err(|e| EvidenceError::Damaged(e.to_string()))?.display().to_string();
        let relative = safe_relative(&name)?;
        match entry.header().entry_type() {
            tar::EntryType::Directory => continue,
            tar::EntryType::Regular | tar::EntryType::Continuous => {}
            tar::EntryType::Symlink | tar::EntryType::Link => return Err(EvidenceError::Link(name)),
            // PAX/GNU headers and the like carry no file of their own.
            _ => continue,
        }
        write_capped(&mut entry, &dest.join(relative), &mut budget, limits.max_unpacked_bytes)?;
    }
    Ok(())
}

/// The folder holding `<model>.val.json`: the top, or one or two levels down.
fn results_root(dir: &Path, depth: usize) -> Option<PathBuf> {
    let entries: Vec<PathBuf> = std::fs::read_dir(dir).ok()?.filter_map(|e| e.ok().map(|e| e.path())).collect();
    if entries.iter().any(|p| p.is_file() && p.to_string_lossy().ends_with(".val.json")) {
        return Some(dir.to_path_buf());
    }
    if depth == 0 {
        return None;
    }
    entries.iter().filter(|p| p.is_dir()).find_map(|p| results_root(p, depth - 1))
}

/// Unpacks `archive` into `scratch` and returns the results folder inside it.
pub fn unpack(archive: &Path, scratch: &Path, limits: &Limits) -> Result<PathBuf, EvidenceError> {
    let read_error = |e: io::Error| EvidenceError::Read(archive.display().to_string(), e);
    let mut file = File::open(archive).map_err(read_error)?;
    let size = file.metadata().map_err(read_error)?.len();
    if size > limits.max_archive_bytes {
        return Err(EvidenceError::TooLarge { size, limit: limits.max_archive_bytes });
    }
    let mut magic = [0u8; 4];
    let read = file.read(&mut magic).map_err(read_error)?;
    let file = File::open(archive).map_err(read_error)?;
    match &magic[..read] {
        [b'P', b'K', 3, 4] => unpack_zip(file, scratch, limits)?,
        [0x1f, 0x8b, ..] => unpack_tar_gz(file, scratch, limits)?,
        _ => return Err(EvidenceError::UnknownFormat),
    }
    results_root(scratch, 2).ok_or(EvidenceError::NoResults)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn zip_with(entries: &[(&str, &[u8])]) -> tempfile::NamedTempFile {
        let file = tempfile::NamedTempFile::new().unwrap();
        let mut writer = zip::ZipWriter::new(file.reopen().unwrap());
        for (name, content) in entries {
            writer.start_file(*name, zip::write::SimpleFileOptions::default()).unwrap();
            writer.write_all(content).unwrap();
        }
        writer.finish().unwrap();
        file
    }

    #[test]
    fn a_results_folder_inside_a_zip_is_found() {
        let archive = zip_with(&[("run/m.val.json", b"{\"clemscore\": 1.0}"), ("run/clem/results.csv", b"x")]);
        let scratch = tempfile::tempdir().unwrap();
        let root = unpack(archive.path(), scratch.path(), &Limits::default()).unwrap();
        assert_eq!(root, scratch.path().join("run"));
        assert!(root.join("clem/results.csv").is_file());
    }

    #[test]
    fn entries_that_climb_out_are_refused_and_nothing_lands_outside() {
        let outer = tempfile::tempdir().unwrap();
        let scratch = outer.path().join("scratch");
        std::fs::create_dir(&scratch).unwrap();
        let archive = zip_with(&[("../escaped.txt", b"boo")]);
        let error = unpack(archive.path(), &scratch, &Limits::default()).unwrap_err();
        assert!(matches!(error, EvidenceError::Escapes(_)), "{error}");
        assert!(!outer.path().join("escaped.txt").exists());
        assert!(matches!(safe_relative("/etc/passwd"), Err(EvidenceError::Escapes(_))));
    }

    #[test]
    fn a_zip_bomb_stops_at_the_unpacked_limit() {
        let zeros = vec![0u8; 4 << 20];
        let archive = zip_with(&[("m.val.json", b"{}"), ("huge.bin", &zeros)]);
        let scratch = tempfile::tempdir().unwrap();
        let limits = Limits { max_unpacked_bytes: 1 << 20, ..Limits::default() };
        let error = unpack(archive.path(), scratch.path(), &limits).unwrap_err();
        assert_eq!(error.to_string(), format!("the archive unpacks to more than {} bytes", 1 << 20));
        let written = std::fs::metadata(scratch.path().join("huge.bin")).map(|m| m.len()).unwrap_or(0);
        assert!(written <= (1 << 20) + 1, "wrote {written} bytes");
    }

    #[test]
    fn oversized_and_unknown_files_are_refused() {
        let archive = zip_with(&[("m.val.json", b"{}")]);
        let scratch = tempfile::tempdir().unwrap();
        let limits = Limits { max_archive_bytes: 10, ..Limits::default() };
        assert!(matches!(unpack(archive.path(), scratch.path(), &limits), Err(EvidenceError::TooLarge { .. })));
        let html = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(html.path(), "<html>results</html>").unwrap();
        assert!(matches!(unpack(html.path(), scratch.path(), &Limits::default()), Err(EvidenceError::UnknownFormat)));
    }

    #[test]
    fn a_tar_gz_unpacks_and_links_are_refused() {
        let build = |with_link: bool| {
            let file = tempfile::NamedTempFile::new().unwrap();
            let gz = flate2::write::GzEncoder::new(file.reopen().unwrap(), flate2::Compression::default());
            let mut builder = tar::Builder::new(gz);
            let body = b"{\"clemscore\": 1.0}";
            let mut header = tar::Header::new_gnu();
            header.set_size(body.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            builder.append_data(&mut header, "m.val.json", &body[..]).unwrap();
            if with_link {
                let mut link = tar::Header::new_gnu();
                link.set_entry_type(tar::EntryType::Symlink);
                link.set_size(0);
                builder.append_link(&mut link, "clem", "/etc").unwrap();
            }
            builder.into_inner().unwrap().finish().unwrap();
            file
        };
        let scratch = tempfile::tempdir().unwrap();
        assert_eq!(unpack(build(false).path(), scratch.path(), &Limits::default()).unwrap(), scratch.path());
        let scratch = tempfile::tempdir().unwrap();
        assert!(matches!(unpack(build(true).path(), scratch.path(), &Limits::default()), Err(EvidenceError::Link(_))));
    }
}
