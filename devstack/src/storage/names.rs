//! Which bucket and object names Storage takes: S3-safe characters only, and — as Storage's
//! file backend (the one the CLI's local stack runs) refuses keys that would climb out of its
//! directory — no `.` or `..` path segment. Names reach here percent-decoded, so `%2e%2e` and
//! `%2F` are judged as the `..` and `/` they stand for.

use super::error::{StorageError, StorageResult};

/// Letters, digits and ``_/!.*'() &$=@;:+,?-``.
fn is_key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_/!.*'() &$=@;:+,?-".contains(c)
}

pub fn object_name(name: &str) -> StorageResult<&str> {
    let traversal = name
        .split('/')
        .any(|segment| segment == "." || segment == "..");
    if name.is_empty() || !name.chars().all(is_key_char) || traversal {
        return Err(StorageError::invalid_key(name));
    }
    Ok(name)
}

pub fn bucket_name(name: &str) -> StorageResult<&str> {
    let valid =
        !name.is_empty() && name.len() < 101 && name.chars().all(|c| c != '/' && is_key_char(c));
    if !valid {
        return Err(StorageError::invalid_bucket_name());
    }
    Ok(name)
}

/// Whether the object is a folder placeholder (`storage-js` creates `.emptyFolderPlaceholder`
/// files), which Storage takes at 0 bytes whatever the bucket's MIME types.
pub fn is_empty_folder(name: &str) -> bool {
    name.ends_with(".emptyFolderPlaceholder")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traversal_and_unsafe_characters_are_invalid_keys() {
        for bad in [
            "", "a/../b", "..", "./a", "a/./b", "a/..", "a\\b", "a%2e", "é.png", "a\u{0}",
        ] {
            assert!(object_name(bad).is_err(), "{bad:?}");
        }
        for good in [
            "a.png",
            "u/x/y.png",
            "a..b",
            "...",
            "f (1).png",
            "x/.hidden",
        ] {
            assert_eq!(object_name(good).unwrap(), good);
        }
    }

    #[test]
    fn bucket_names_have_no_slash() {
        assert!(bucket_name("images").is_ok());
        assert!(bucket_name("a/b").is_err());
        assert!(bucket_name("").is_err());
        assert!(bucket_name(&"x".repeat(101)).is_err());
    }
}
