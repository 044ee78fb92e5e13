//! Who is signed in, for the header and the pages that act on their behalf.

use crate::model::{SignInOptions, ViewerInfo};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// The app state and the request's headers, taken from the context together:
/// a server function may resume on another thread after an await, where the
/// context is out of reach, so everything is taken before the first one.
#[cfg(feature = "ssr")]
pub fn request_context() -> Result<(crate::server::AppState, axum::http::HeaderMap), ServerFnError> {
    let state = use_context::<crate::server::AppState>().ok_or_else(|| ServerFnError::new("no app state"))?;
    let parts = use_context::<axum::http::request::Parts>().ok_or_else(|| ServerFnError::new("no request"))?;
    Ok((state, parts.headers))
}

/// The viewer behind `headers` (server side).
#[cfg(feature = "ssr")]
pub async fn current_viewer(
    state: &crate::server::AppState,
    headers: &axum::http::HeaderMap,
) -> Result<Option<(crate::server::auth::Viewer, ViewerInfo)>, ServerFnError> {
    use crate::server::auth;
    let viewer = auth::viewer(state, headers).await.map_err(|e| ServerFnError::new(format!("database error: {e}")))?;
    Ok(viewer.map(|viewer| {
        let info = ViewerInfo {
            login: viewer.login.clone(),
            csrf: viewer.csrf_token.clone(),
            organizer: state.config.is_organizer(&viewer.login),
        };
        (viewer, info)
    }))
}

#[cfg(feature = "ssr")]
pub fn sign_in_options(state: &crate::server::AppState) -> SignInOptions {
    SignInOptions { github: state.config.github.oauth.is_some(), development: state.config.dev_sign_in }
}

#[server]
pub async fn get_viewer() -> Result<Option<ViewerInfo>, ServerFnError> {
    let (state, headers) = request_context()?;
    Ok(current_viewer(&state, &headers).await?.map(|(_, info)| info))
}

/// The header's corner: the viewer and a sign-out button, or a way in.
#[component]
pub fn SessionCorner() -> impl IntoView {
    let viewer = Resource::new(|| (), |_| get_viewer());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match viewer.await {
                    Ok(Some(viewer)) => view! {
                        <span class="session">
                            <a href="/team">{format!("@{}", viewer.login)}</a>
                            <form method="post" action="/auth/sign-out" class="inline">
                                <input type="hidden" name="csrf" value=viewer.csrf/>
                                <button type="submit" class="link">"Sign out"</button>
                            </form>
                        </span>
                    }.into_any(),
                    _ => view! { <span class="session"><a href="/team">"Sign in"</a></span> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The ways in, for a page that needs a signed-in viewer.
#[component]
pub fn SignIn(options: SignInOptions) -> impl IntoView {
    view! {
        <section class="sign-in">
            <h2>"Sign in"</h2>
            {options.github.then(|| view! {
                <p><a class="button" href="/auth/github" rel="external">"Sign in with GitHub"</a></p>
            })}
            {options.development.then(|| view! {
                <form method="post" action="/auth/dev" class="dev-sign-in">
                    <label>"Development sign-in as " <input name="login" required placeholder="github-login"/></label>
                    <button type="submit">"Sign in"</button>
                </form>
            })}
            {(!options.github && !options.development).then(|| view! {
                <p>"Sign-in is not configured on this site (see the README: GitHub OAuth settings)."</p>
            })}
        </section>
    }
}

/// The message a form handler sent back in `?error=`.
#[component]
pub fn FormError() -> impl IntoView {
    let query = use_query_map();
    move || query.read().get("error").map(|error| view! { <p class="form-error" role="alert">{error}</p> })
}
