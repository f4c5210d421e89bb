//! Files on disk: reading only regular files, atomic writes, checksums.
pub mod checksum;
pub mod files;
