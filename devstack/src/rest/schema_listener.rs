//! Keeps the schema cache fresh: `LISTEN pgrst` on a dedicated superuser connection, and a
//! reload on `NOTIFY pgrst, 'reload schema'` (or an empty payload), as PostgREST does.
//! A dropped connection is retried; every (re)connection also reloads, since notifications
//! sent while disconnected are lost.

use std::time::Duration;

use futures_util::StreamExt;
use tokio_postgres::{AsyncMessage, NoTls};

use crate::db::pg_config;
use crate::project::SharedProject;

const RETRY_AFTER: Duration = Duration::from_secs(2);

pub fn spawn(project: SharedProject, db_port: u16) {
    tokio::spawn(async move {
        loop {
            if let Err(e) = listen(&project, db_port).await {
                tracing::warn!(project = %project.config.name, "schema listener: {e:#}; reconnecting");
            }
            tokio::time::sleep(RETRY_AFTER).await;
        }
    });
}

async fn listen(project: &SharedProject, db_port: u16) -> anyhow::Result<()> {
    let (client, mut connection) = pg_config(db_port, &project.config.db_name, "postgres")
        .connect(NoTls)
        .await?;
    let (notify_tx, mut notify_rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let driver = tokio::spawn(async move {
        let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(message) = messages.next().await {
            match message? {
                AsyncMessage::Notification(n)
                    if n.channel() == "pgrst"
                        && notify_tx.send(n.payload().to_owned()).is_err() =>
                {
                    break;
                }
                _ => {}
            }
        }
        Ok::<_, tokio_postgres::Error>(())
    });
    client.batch_execute("LISTEN pgrst").await?;
    project.rest.reload(&project.pools).await;
    while let Some(payload) = notify_rx.recv().await {
        if payload.is_empty() || payload == "reload schema" {
            project.rest.reload(&project.pools).await;
        }
    }
    driver.await??;
    anyhow::bail!("connection closed")
}
