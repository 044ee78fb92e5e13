//! The page shell and the route table: every page is listed here once.

use crate::pages::leaderboard::DevLeaderboard;
use crate::pages::not_found::NotFound;
use crate::pages::rules::RulesPage;
use crate::pages::session::SessionCorner;
use crate::pages::submission::SubmissionPage;
use crate::pages::submit::SubmitPageView;
use crate::pages::team::TeamPageView;
use crate::pages::test_board::TestLeaderboard;
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::{ParamSegment, SsrMode, StaticSegment};

pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Effects run only in the browser: the flag turns true once the page is interactive.
    let interactive = RwSignal::new(false);
    Effect::new(move |_| interactive.set(true));

    view! {
        <Stylesheet id="leptos" href="/pkg/playschool.css"/>
        <Title text="LM-Playschool"/>
        <Router>
            <div class="page" data-interactive=move || interactive.get().to_string()>
                <header class="site-header">
                    <a class="brand" href="/">"LM-Playschool"</a>
                    <nav>
                        <A href="/" exact=true>"Dev leaderboard"</A>
                        <A href="/test">"Test leaderboard"</A>
                        <A href="/rules">"Rules"</A>
                        <A href="/submit">"Submit"</A>
                    </nav>
                    <SessionCorner/>
                </header>
                <main>
                    <Routes fallback=|| view! { <NotFound/> }>
                        <Route path=StaticSegment("") view=DevLeaderboard ssr=SsrMode::Async/>
                        <Route path=StaticSegment("test") view=TestLeaderboard ssr=SsrMode::Async/>
                        <Route path=StaticSegment("rules") view=RulesPage ssr=SsrMode::Async/>
                        <Route path=StaticSegment("team") view=TeamPageView ssr=SsrMode::Async/>
                        <Route path=StaticSegment("submit") view=SubmitPageView ssr=SsrMode::Async/>
                        <Route
                            path=(StaticSegment("submissions"), ParamSegment("id"))
                            view=SubmissionPage
                            ssr=SsrMode::Async
                        />
                    </Routes>
                </main>
                <footer class="site-footer">
                    "Exports: "
                    <a href="/api/leaderboard/dev.json">"dev.json"</a>
                    " · "
                    <a href="/api/leaderboard/dev.csv">"dev.csv"</a>
                </footer>
            </div>
        </Router>
    }
}
