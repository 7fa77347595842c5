//! The transport contract against the in-memory broker.

mod contract;

use anyhow::Result;
use async_trait::async_trait;
use contract::Harness;
use msgflo_tests::unique;

struct Memory {
    broker: String,
    prefix: String,
}

impl Memory {
    fn new() -> Self {
        Memory {
            broker: unique("contract"),
            prefix: unique("c"),
        }
    }
}

#[async_trait]
impl Harness for Memory {
    fn url(&self) -> String {
        format!("memory://{}", self.broker)
    }

    fn client_id(&self, client: &str) -> String {
        format!("{}-{client}", self.prefix)
    }

    async fn kill_connections(&self, clients: &[&str]) -> Result<()> {
        for client in clients {
            msgflo_participant::transport::memory::kill_connection(
                &self.broker,
                &self.client_id(client),
            )?;
        }
        Ok(())
    }
}

contract_tests!(Memory::new());
