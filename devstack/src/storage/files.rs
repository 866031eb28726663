//! The bytes of a project's objects, one file per object version (`<dir>/<version>`), named by
//! a UUID and never by the object's name, so no name can reach outside the directory. An
//! upload streams into `<version>.part` under a size limit and becomes `<version>` only when
//! its metadata row is being committed.

use std::path::PathBuf;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use md5::{Digest, Md5};
use tokio::io::AsyncWriteExt;

/// A body that streamed into its part file whole and within the limit.
pub struct Written {
    pub version: String,
    pub size: u64,
    /// The quoted hex MD5 of the bytes, as S3 and Storage's file backend give it.
    pub etag: String,
    part: PathBuf,
}

#[derive(Debug)]
pub enum WriteError {
    /// The body went over the limit; what was written is gone.
    TooLarge,
    /// The body stopped (the client went away) or the disk failed; what was written is gone.
    Failed(String),
}

pub struct FileStore {
    dir: PathBuf,
}

impl FileStore {
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    pub fn path(&self, version: &str) -> PathBuf {
        self.dir.join(version)
    }

    /// Streams `body` to a new part file, chunk by chunk; more than `limit` bytes stop it.
    pub async fn write<S, E>(&self, body: S, limit: u64) -> Result<Written, WriteError>
    where
        S: Stream<Item = Result<Bytes, E>>,
        E: std::fmt::Display,
    {
        let version = uuid::Uuid::new_v4().to_string();
        let part = self.dir.join(format!("{version}.part"));
        let outcome = self.stream_into(&part, body, limit).await;
        match outcome {
            Ok((size, etag)) => Ok(Written {
                version,
                size,
                etag,
                part,
            }),
            Err(e) => {
                let _ = tokio::fs::remove_file(&part).await;
                Err(e)
            }
        }
    }

    async fn stream_into<S, E>(
        &self,
        part: &PathBuf,
        body: S,
        limit: u64,
    ) -> Result<(u64, String), WriteError>
    where
        S: Stream<Item = Result<Bytes, E>>,
        E: std::fmt::Display,
    {
        let io = |e: std::io::Error| WriteError::Failed(format!("writing {}: {e}", part.display()));
        tokio::fs::create_dir_all(&self.dir).await.map_err(io)?;
        let mut file = tokio::fs::File::create(part).await.map_err(io)?;
        let mut hash = Md5::new();
        let mut size = 0u64;
        let mut body = std::pin::pin!(body);
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| WriteError::Failed(format!("request body: {e}")))?;
            size += chunk.len() as u64;
            if size > limit {
                return Err(WriteError::TooLarge);
            }
            hash.update(&chunk);
            file.write_all(&chunk).await.map_err(io)?;
        }
        file.flush().await.map_err(io)?;
        Ok((size, format!("\"{:x}\"", hash.finalize())))
    }

    /// Makes the part file the version's file.
    pub async fn keep(&self, written: &Written) -> std::io::Result<()> {
        tokio::fs::rename(&written.part, self.path(&written.version)).await
    }

    /// Removes what a write left, kept or not.
    pub async fn discard(&self, written: &Written) {
        let _ = tokio::fs::remove_file(&written.part).await;
        self.remove(&written.version).await;
    }

    pub async fn remove(&self, version: &str) {
        if let Err(e) = tokio::fs::remove_file(self.path(version)).await
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!("storage: removing object file {version}: {e}");
        }
    }

    /// A new version with the same bytes (what a copy gets).
    pub async fn duplicate(&self, version: &str) -> std::io::Result<String> {
        let new = uuid::Uuid::new_v4().to_string();
        tokio::fs::copy(self.path(version), self.path(&new)).await?;
        Ok(new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> FileStore {
        FileStore::new(
            std::env::temp_dir().join(format!("devstack-files-{}", uuid::Uuid::new_v4())),
        )
    }

    fn chunks(n: usize, size: usize) -> impl Stream<Item = Result<Bytes, String>> {
        futures_util::stream::iter((0..n).map(move |_| Ok(Bytes::from(vec![7u8; size]))))
    }

    #[tokio::test]
    async fn a_body_within_the_limit_is_kept_with_its_md5() {
        let store = store();
        let written = store.write(chunks(1, 3), 3).await.unwrap();
        assert_eq!(written.size, 3);
        assert_eq!(written.etag, format!("\"{:x}\"", Md5::digest([7u8; 3])));
        store.keep(&written).await.unwrap();
        assert_eq!(
            std::fs::read(store.path(&written.version)).unwrap(),
            vec![7u8; 3]
        );
        store.discard(&written).await;
        assert!(!store.path(&written.version).exists());
    }

    #[tokio::test]
    async fn over_the_limit_or_broken_leaves_no_file() {
        let store = store();
        assert!(matches!(
            store.write(chunks(5, 10), 49).await,
            Err(WriteError::TooLarge)
        ));
        let broken = futures_util::stream::iter(vec![
            Ok(Bytes::from_static(b"ab")),
            Err("reset".to_owned()),
        ]);
        assert!(matches!(
            store.write(broken, 10).await,
            Err(WriteError::Failed(_))
        ));
        let left: Vec<_> = std::fs::read_dir(&store.dir).unwrap().collect();
        assert!(left.is_empty(), "{left:?}");
    }
}
