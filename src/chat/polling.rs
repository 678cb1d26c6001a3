//! Long polling that outlives Telegram outages and a crashed dispatcher, and the errors it logs.

use super::menu::{register_menu, MenuHost};
use super::*;

/// Long polling that survives Telegram being unreachable at start-up or a crashed dispatcher:
/// waits until getMe answers (teloxide panics when it cannot), registers the command menu, then
/// dispatches; if the dispatcher dies it is rebuilt after a pause. Ticks and the outbox go on
/// meanwhile.
pub(super) async fn poll_forever(
    bot: Bot,
    services: Arc<Services>,
    errors: Arc<PollErrors>,
    stop: Arc<std::sync::Mutex<Option<teloxide::dispatching::ShutdownToken>>>,
    token: Token,
    menu: MenuHost,
) {
    let policy = crate::policy::retry::POLL_RESTART;
    let mut failures = 0;
    loop {
        // Through the direct path: teloxide's would sleep 10 s after a 5xx before the retry's wait.
        if let Err(e) = direct::call(&bot, &teloxide::payloads::GetMe::new()).await {
            failures += 1;
            let pause = policy.wait(failures);
            let error = token::redact(&e.to_string(), &token);
            match e {
                // It answered, but not with the Bot API's JSON: a proxy, a captive portal or a
                // wrong telegram.apiUrl, not an outage.
                teloxide::RequestError::InvalidJson { .. } => tracing::warn!(
                    error = %error,
                    retry_in = ?pause,
                    "the Bot API answered getMe with something that is not its JSON (a proxy, or a wrong telegram.apiUrl?); commands wait, reports stay queued"
                ),
                _ => tracing::warn!(error = %error, retry_in = ?pause, "Telegram unreachable; commands wait, reports stay queued"),
            }
            tokio::time::sleep(pause).await;
            continue;
        }
        // The menu is registered beside polling, not before it: a Bot API answering 5xx to
        // setMyCommands (teloxide waits 10 s after each) must not keep the bot deaf at start.
        {
            let (bot, token, config, menu) = (bot.clone(), token.clone(), services.config.clone(), menu.clone());
            tokio::spawn(async move { register_menu(&bot, &token, &config, &menu, true).await });
        }
        let mut dispatcher = Dispatcher::builder(bot.clone(), handlers::schema())
            .dependencies(dptree::deps![services.clone()])
            .default_handler(|_| async {})
            .error_handler({
                let token = token.clone();
                Arc::new(move |e: anyhow::Error| {
                    let text = token::redact(&format!("{e:#}"), &token);
                    async move { tracing::error!(error = %text, "handler failed") }
                })
            })
            .build();
        *stop.lock().expect("shutdown token") = Some(dispatcher.shutdown_token());
        let listener = super::listen::listener(&bot, &token).await;
        let errs = errors.clone();
        let started = std::time::Instant::now();
        match tokio::spawn(async move { dispatcher.dispatch_with_listener(listener, errs).await }).await {
            Ok(()) => return, // shut down
            Err(e) => tracing::error!(error = %token::redact(&e.to_string(), &token), "polling stopped unexpectedly; restarting"),
        }
        // A dispatcher that ran for a while starts the backoff afresh; one that keeps dying backs off.
        failures = if started.elapsed() > policy.max { 1 } else { failures + 1 };
        tokio::time::sleep(policy.wait(failures)).await;
    }
}

/// Polling errors: logged (token redacted); a 409 conflict is also reported to the owner hourly.
pub(super) struct PollErrors {
    pub(super) services: Arc<Services>,
    pub(super) token: Token,
}

impl teloxide::error_handlers::ErrorHandler<teloxide::RequestError> for PollErrors {
    fn handle_error(self: Arc<Self>, e: teloxide::RequestError) -> futures_util::future::BoxFuture<'static, ()> {
        Box::pin(async move {
            let text = token::redact(&e.to_string(), &self.token);
            tracing::error!(error = %text, "polling failed");
            if matches!(e, teloxide::RequestError::Api(teloxide::ApiError::TerminatedByOtherGetUpdates)) {
                if let Err(err) = self.warn_conflict() {
                    tracing::error!(error = %err, "could not queue the conflict warning");
                }
            }
        })
    }
}

impl PollErrors {
    fn warn_conflict(&self) -> Result<()> {
        let mut store = self.services.store()?;
        let now = chrono::Utc::now().timestamp();
        let last: i64 = store.meta("conflict_warned_at")?.and_then(|v| v.parse().ok()).unwrap_or(0);
        if now - last < 3600 {
            return Ok(());
        }
        store.set_meta("conflict_warned_at", &now.to_string())?;
        for chat in &self.services.config.current().report_chats {
            let lang = self.services.lang(*chat);
            let host = crate::config::host::of(self.services.config().as_deref());
            outbox_queue::enqueue(&mut store, *chat, &crate::t!(lang, "warn-conflict", host = host), false, None)?;
        }
        self.services.wake.notify_one();
        Ok(())
    }
}
