//! The built-in engine offered to the providers (`providers::LocalEngine`): the installed
//! models as a provider's model list, and a run of the engine serving one.

use super::service::{engine_error, model_infos};
use super::ModelService;
use crate::error::ProviderError;
use crate::providers::{LocalEngine, Served};
use futures::future::BoxFuture;
use parley_protocol::ModelInfo;
use tokio_util::sync::CancellationToken;

impl LocalEngine for ModelService {
    fn models(&self) -> BoxFuture<'_, Result<Vec<ModelInfo>, ProviderError>> {
        Box::pin(async move {
            let models = self
                .installed_models()
                .await
                .map_err(|e| engine_error(e.to_string()))?;
            Ok(model_infos(&models))
        })
    }

    fn serve<'a>(
        &'a self,
        model: &'a str,
        cancel: &'a CancellationToken,
    ) -> BoxFuture<'a, Result<Served, ProviderError>> {
        Box::pin(async move {
            let lease = ModelService::serve(self, model, cancel)
                .await
                .map_err(engine_error)?;
            Ok(Served {
                base_url: lease.base_url.clone(),
                key: lease.key.clone(),
                run: lease.run,
                hold: Box::new(lease),
            })
        })
    }

    fn is_over(&self, run: u64) -> BoxFuture<'_, bool> {
        Box::pin(ModelService::is_over(self, run))
    }
}
