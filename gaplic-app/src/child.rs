//! `[[subprocess]]` in the child process: what ties it to the main
//! process. It asks the system for SIGTERM when the thread of the main
//! process that started it ends (the parent-death signal), then checks
//! that its parent is still the process that started it (it may have died
//! before the request); its router dials the main gaplic's; a
//! [`GParentLink`] stops the gaplic when that link is lost for good.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use gaplic_macros::gobj;
use gaplic_runtime::{
    Cx, Event, Gaplic, GobjError, GobjId, Kw, ROUTER, Ret, SubscribeOptions, TimerId, Value,
};
use rustix::process::Pid;

use crate::file::GaplicSpec;

/// What makes the launcher a subprocess: the hidden arguments `serve`
/// gives its children.
#[derive(Clone, Debug)]
pub(crate) struct ChildOptions {
    /// `--subprocess`: the `[[subprocess]]` entry to run.
    pub name: String,
    /// `--parent-pid`: the main process.
    pub parent_pid: u32,
    /// `--parent-router`: where the main gaplic's router listens.
    pub parent_router: String,
}

/// Asks for SIGTERM at the main process's death, then checks the main
/// process is still the parent (it may have died before the request).
///
/// # Errors
///
/// Why the child should not run.
pub(crate) fn bind_to_parent(parent_pid: u32) -> Result<(), String> {
    #[cfg(target_os = "linux")]
    rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::TERM)).map_err(
        |error| format!("cannot ask the system for a signal at the main process's death: {error}"),
    )?;
    let parent = rustix::process::getppid().map(|pid| i64::from(pid.as_raw_nonzero().get()));
    if parent != Some(i64::from(parent_pid)) {
        return Err(format!(
            "the main process (pid {parent_pid}) is gone, or did not start this one"
        ));
    }
    Ok(())
}

/// The route of a subprocess's router to the main gaplic, `main`, whose
/// router listens at `address`: `name, role1+role2, ws://address`.
pub(crate) fn parent_route(main: &GaplicSpec, address: &str) -> String {
    if main.roles.is_empty() {
        format!("{}, ws://{address}", main.name)
    } else {
        format!("{}, {}, ws://{address}", main.name, main.roles.join("+"))
    }
}

/// The attrs of a subprocess's router: its own, with `route` added to its
/// `routes`.
pub(crate) fn router_attrs(own: Option<&Kw>, route: String) -> Kw {
    let mut attrs = own.cloned().unwrap_or_default();
    let mut routes = match attrs.remove("routes") {
        Some(Value::List(routes)) => routes,
        Some(Value::Null) | None => Vec::new(),
        // Checked with the file: a list of strings.
        Some(other) => vec![other],
    };
    routes.push(Value::Str(route));
    attrs.insert("routes", Value::List(routes));
    attrs
}

/// Why the link to the main gaplic was lost, once it was.
pub(crate) type Lost = Arc<Mutex<Option<String>>>;

/// Creates the [`GParentLink`] of the subprocess, after its router; what
/// it reports when it stops the gaplic.
pub(crate) fn watch_parent_link(
    gaplic: &mut Gaplic,
    main: &str,
    parent_pid: u32,
    link_timeout: Duration,
) -> Result<Lost, GobjError> {
    let id = gaplic.create_gobj::<GParentLink>(
        "parent-link",
        None,
        Kw::new()
            .with("parent_gaplic", main)
            .with("parent_pid", parent_pid)
            .with("link_timeout", link_timeout.as_secs_f64()),
    )?;
    let lost = Lost::default();
    if let Some(link) = gaplic.gobj_mut::<GParentLink>(id) {
        link.lost = Some(lost.clone());
    }
    Ok(lost)
}

gobj! {
    #[gobj(crate = "gaplic_runtime")]
    /// In a subprocess: watches the route of its router to the main
    /// gaplic, and stops the gaplic when the main process is gone or the
    /// route is not open `link_timeout` seconds after the start or after
    /// it closed.
    #[derive(Debug)]
    pub(crate) struct GParentLink {
        /// The main gaplic's name (the route's).
        #[attr(default = "")]
        parent_gaplic: String,
        /// The main process.
        #[attr(default = 0)]
        parent_pid: u32,
        /// Seconds the route may stay closed.
        #[attr(default = 10.0, range = 0.001..=3600.0)]
        link_timeout: f64,
        timer: Option<TimerId>,
        lost: Option<Lost>,
    }
    events {
        /// A route of the router opened.
        EV_ROUTE_OPENED: input bottom,
        /// A route of the router closed.
        EV_ROUTE_CLOSED: input bottom,
        /// The route stayed closed `link_timeout` seconds.
        EV_LINK_TIMEOUT: input bottom,
    }
    states {
        /// The route to the main gaplic is not open.
        ST_UNLINKED,
        /// It is open.
        ST_LINKED,
    }
    machine {
        ST_UNLINKED {
            EV_ROUTE_OPENED => opened,
            EV_ROUTE_CLOSED => closed,
            EV_LINK_TIMEOUT => timed_out,
        }
        ST_LINKED {
            EV_ROUTE_OPENED => opened,
            EV_ROUTE_CLOSED => closed,
            EV_LINK_TIMEOUT,
        }
    }
    hooks { start_up }
}

impl GParentLink {
    fn start_up(&mut self, cx: &mut Cx<Self>) -> Result<(), GobjError> {
        let router: GobjId = cx.gaplic()?.find_unique_gobj(ROUTER).ok_or_else(|| {
            GobjError::failed("a subprocess's gaplic has no router to reach the main gaplic")
        })?;
        for event in ["EV_ROUTE_OPENED", "EV_ROUTE_CLOSED"] {
            cx.subscribe(router, Some(event), SubscribeOptions::new())
                .map_err(|error| {
                    GobjError::failed(format!(
                        "cannot follow the route to the main gaplic: {error}"
                    ))
                })?;
        }
        self.arm(cx)
    }

    fn arm(&mut self, cx: &mut Cx<Self>) -> Result<(), GobjError> {
        if let Some(timer) = self.timer.take() {
            cx.cancel_timer(timer);
        }
        let delay = Duration::from_secs_f64(self.link_timeout);
        self.timer = Some(cx.set_timer(delay, GParentLinkEvent::EV_LINK_TIMEOUT, Kw::new())?);
        Ok(())
    }

    fn is_parent_route(&self, ev: &Event) -> bool {
        ev.get::<Option<String>>("gaplic")
            .ok()
            .flatten()
            .is_some_and(|gaplic| gaplic == self.parent_gaplic)
    }

    fn opened(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        if !self.is_parent_route(ev) {
            return Ok(Value::Null);
        }
        if let Some(timer) = self.timer.take() {
            cx.cancel_timer(timer);
        }
        tracing::debug!(target: "gaplic::app", gaplic = %self.parent_gaplic, "linked to the main gaplic");
        cx.set_state(GParentLinkState::ST_LINKED);
        Ok(Value::Null)
    }

    fn closed(&mut self, cx: &mut Cx<Self>, ev: &Event) -> Ret {
        if !self.is_parent_route(ev) {
            return Ok(Value::Null);
        }
        let parent = rustix::process::getppid().map(Pid::as_raw_nonzero);
        if parent.map(|p| i64::from(p.get())) != Some(i64::from(self.parent_pid)) {
            let reason = format!("the main process (pid {}) is gone", self.parent_pid);
            return self.lose(cx, reason);
        }
        // Said at debug level: it is also how every stop of the
        // application looks from here, the main router closing first.
        let reason = ev.get::<Option<String>>("reason")?.unwrap_or_default();
        tracing::debug!(
            target: "gaplic::app",
            gaplic = %self.parent_gaplic,
            %reason,
            link_timeout = self.link_timeout,
            "the route to the main gaplic closed; waiting for it to open again"
        );
        cx.set_state(GParentLinkState::ST_UNLINKED);
        self.arm(cx)?;
        Ok(Value::Null)
    }

    fn timed_out(&mut self, cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        self.timer = None;
        let reason = format!(
            "no route to the main gaplic `{}` for {} s (link_timeout)",
            self.parent_gaplic, self.link_timeout
        );
        self.lose(cx, reason)
    }

    /// The link is lost for good: the gaplic stops.
    fn lose(&mut self, cx: &mut Cx<Self>, reason: String) -> Ret {
        tracing::error!(target: "gaplic::app", %reason, "stopping");
        if let Some(lost) = &self.lost {
            *lost.lock().unwrap_or_else(|e| e.into_inner()) = Some(reason);
        }
        cx.gaplic()?.stop();
        Ok(Value::Null)
    }
}
