//! An in-memory [`SecretStore`] for tests and benches of code that takes a store. Compiled
//! only for tests and with the `test-support` feature (the integration tests and benches
//! enable it); nothing ever falls back from the real keystore to this.

use std::collections::HashMap;
use std::sync::Mutex;

use zeroize::Zeroizing;

use super::{SecretError, SecretId, SecretStore};

#[derive(Debug, Default)]
pub struct MemoryStore {
    secrets: Mutex<HashMap<SecretId, Vec<u8>>>,
}

impl SecretStore for MemoryStore {
    fn describe(&self) -> String {
        "in-memory test store".into()
    }

    fn get(&self, id: &SecretId) -> Result<Option<Zeroizing<Vec<u8>>>, SecretError> {
        let secrets = self.secrets.lock().unwrap();
        Ok(secrets.get(id).cloned().map(Zeroizing::new))
    }

    fn set(&self, id: &SecretId, value: &[u8]) -> Result<(), SecretError> {
        let mut secrets = self.secrets.lock().unwrap();
        secrets.insert(id.clone(), value.to_vec());
        Ok(())
    }

    fn delete(&self, id: &SecretId) -> Result<(), SecretError> {
        self.secrets.lock().unwrap().remove(id);
        Ok(())
    }
}
