//! A secret store in memory for tests and benches that drive a device `Session` (the app
//! uses the OS keyring; these runs want no trace of themselves there).

use std::collections::HashMap;
use std::sync::Mutex;

use roost_core::SecretStore;
use roost_core::secrets::{SecretError, SecretId};
use zeroize::Zeroizing;

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
