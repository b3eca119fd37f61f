"""Director: a movie-director add-on shaped like our users' platform (reference add-on).

Connections to ComfyUI, LiteLLM and Wan2GP are shown in a panel and polled by a timer; the
image, script and clip operators hand their backend work to worker threads and a timer applies
the results to Blender data on the main thread, as Blender requires. "Watch services" is a modal
operator on a window-manager event timer, as add-ons write background work; the start-up
announcement timer returns a set, a mistake seen in published add-ons, which Blender reports
and drops.
"""

bl_info = {
    "name": "Director",
    "author": "mediastack-harness",
    "version": (0, 1, 0),
    "blender": (4, 2, 0),
    "location": "View3D > Sidebar > Director",
    "description": "Image, script and clip generation through ComfyUI, LiteLLM and Wan2GP",
    "category": "Sequencer",
}

import logging  # noqa: E402
import queue  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402

import bpy  # noqa: E402

from . import backends  # noqa: E402

log = logging.getLogger(__name__)
SERVICES = ("comfyui", "litellm", "wan2gp")
STATES = [
    ("UNKNOWN", "Unknown", "Not checked yet"),
    ("CHECKING", "Checking", "A check is running"),
    ("CONNECTED", "Connected", "The service answered"),
    ("ERROR", "Error", "The service did not answer"),
]
_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="director")
_DONE: queue.Queue = queue.Queue()  # (apply(context) -> None) callables, run on the main thread


class DirectorPreferences(bpy.types.AddonPreferences):
    bl_idname = __package__
    comfyui_url: bpy.props.StringProperty(name="ComfyUI URL", default="http://127.0.0.1:8188")
    litellm_url: bpy.props.StringProperty(name="LiteLLM URL", default="http://127.0.0.1:4000")
    litellm_key: bpy.props.StringProperty(name="LiteLLM key", default="", subtype="PASSWORD")
    litellm_model: bpy.props.StringProperty(name="LiteLLM model", default="gpt-4o-mini")
    wan2gp_url: bpy.props.StringProperty(name="Wan2GP URL", default="http://127.0.0.1:7860")
    poll_seconds: bpy.props.FloatProperty(name="Poll every (s)", default=5.0, min=0.1)
    timeout_seconds: bpy.props.FloatProperty(name="Timeout (s)", default=10.0, min=0.1)

    def draw(self, context):
        for name in self.bl_rna.properties.keys():  # noqa: SIM118
            if name not in ("rna_type", "bl_idname"):
                self.layout.prop(self, name)


def prefs(context=None):
    return (context or bpy.context).preferences.addons[__package__].preferences


class DirectorState(bpy.types.PropertyGroup):
    comfyui_status: bpy.props.EnumProperty(name="ComfyUI", items=STATES, default="UNKNOWN")
    litellm_status: bpy.props.EnumProperty(name="LiteLLM", items=STATES, default="UNKNOWN")
    wan2gp_status: bpy.props.EnumProperty(name="Wan2GP", items=STATES, default="UNKNOWN")
    comfyui_error: bpy.props.StringProperty(name="ComfyUI error")
    litellm_error: bpy.props.StringProperty(name="LiteLLM error")
    wan2gp_error: bpy.props.StringProperty(name="Wan2GP error")
    prompt: bpy.props.StringProperty(name="Prompt", default="a lighthouse at dusk")
    jobs: bpy.props.IntProperty(name="Running jobs", default=0)
    last_image: bpy.props.StringProperty(name="Last image")
    last_text: bpy.props.StringProperty(name="Last script")
    last_clip: bpy.props.StringProperty(name="Last clip")
    last_error: bpy.props.StringProperty(name="Last error")
    announcements: bpy.props.IntProperty(name="Start-up announcements", default=0)


def state(context=None) -> DirectorState:
    return (context or bpy.context).scene.director


def _urls(context) -> dict:
    p = prefs(context)
    return {
        "comfyui": p.comfyui_url,
        "litellm": p.litellm_url,
        "wan2gp": p.wan2gp_url,
        "key": p.litellm_key,
        "model": p.litellm_model,
        "timeout": p.timeout_seconds,
    }


def check(context, service: str) -> None:
    """Check one service off the main thread; the drain timer records the outcome."""
    setattr(state(context), f"{service}_status", "CHECKING")
    settings = _urls(context)

    def work():
        try:
            backends.health(service, settings[service], settings["key"], settings["timeout"])
            outcome = ("CONNECTED", "")
        except backends.BackendError as error:
            outcome = ("ERROR", str(error))

        def apply(ctx):
            setattr(state(ctx), f"{service}_status", outcome[0])
            setattr(state(ctx), f"{service}_error", outcome[1])
            (log.info if outcome[0] == "CONNECTED" else log.warning)(
                "%s %s %s", service, outcome[0].lower(), outcome[1]
            )

        _DONE.put(apply)

    _POOL.submit(work)


def _job(context, work, done) -> None:
    """Run `work()` on a worker thread, then `done(context, value)` on the main thread."""
    state(context).jobs += 1

    def run():
        try:
            value, error = work(), None
        except Exception as raised:  # a backend failure of any kind ends the job with a message
            value, error = None, f"{type(raised).__name__}: {raised}"

        def apply(ctx):
            state(ctx).jobs -= 1
            if error is None:
                done(ctx, value)
            else:
                state(ctx).last_error = error
                log.error("job failed: %s", error)

        _DONE.put(apply)

    _POOL.submit(run)


def drain() -> float:
    """Timer: apply finished background work on the main thread."""
    while True:
        try:
            apply = _DONE.get_nowait()
        except queue.Empty:
            return 0.1
        apply(bpy.context)


def announce():
    """Start-up timer: say the add-on is ready. It returns {'RUNNING_MODAL'} (an operator's
    result, not a timer's): Blender prints that it "did not return None or float" and drops
    it, so it runs once."""
    state().announcements += 1
    log.info("director ready")
    return {"RUNNING_MODAL"}


def poll_connections() -> float:
    """Timer: re-check every service, as the platform's status indicator does."""
    for service in SERVICES:
        if getattr(state(), f"{service}_status") != "CHECKING":
            check(bpy.context, service)
    return prefs().poll_seconds


class DIRECTOR_OT_refresh_connections(bpy.types.Operator):
    bl_idname = "director.refresh_connections"
    bl_label = "Refresh connections"

    def execute(self, context):
        for service in SERVICES:
            check(context, service)
        self.report({"INFO"}, "checking ComfyUI, LiteLLM and Wan2GP")
        return {"FINISHED"}


class DIRECTOR_OT_watch_services(bpy.types.Operator):
    """Check every service and wait for the answers without blocking Blender: a modal operator
    on an event timer, ending when no service is still being checked."""

    bl_idname = "director.watch_services"
    bl_label = "Watch services"

    def invoke(self, context, event):
        for service in SERVICES:
            check(context, service)
        wm = context.window_manager
        self._timer = wm.event_timer_add(0.1, window=context.window)
        wm.modal_handler_add(self)
        self.report({"INFO"}, "watching ComfyUI, LiteLLM and Wan2GP")
        return {"RUNNING_MODAL"}

    def modal(self, context, event):
        if event.type == "ESC":
            return self._end(context, {"CANCELLED"})
        if event.type != "TIMER":
            return {"PASS_THROUGH"}
        st = state(context)
        statuses = {service: getattr(st, f"{service}_status") for service in SERVICES}
        if "CHECKING" in statuses.values():
            if self._timer.time_duration > prefs(context).timeout_seconds + 1.0:
                waiting = [s for s, status in statuses.items() if status == "CHECKING"]
                self.report({"WARNING"}, f"no answer from {', '.join(waiting)}")
                return self._end(context, {"CANCELLED"})
            return {"PASS_THROUGH"}
        up = [s for s, status in statuses.items() if status == "CONNECTED"]
        down = [s for s in SERVICES if s not in up]
        self.report({"INFO"}, f"connected: {', '.join(up) or 'none'}")
        if down:
            self.report({"WARNING"}, f"not connected: {', '.join(down)}")
        return self._end(context, {"FINISHED"})

    def _end(self, context, result):
        context.window_manager.event_timer_remove(self._timer)
        return result


class DIRECTOR_OT_manual_reconnect(bpy.types.Operator):
    bl_idname = "director.manual_reconnect"
    bl_label = "Reconnect"
    service: bpy.props.EnumProperty(
        items=[(s, s, f"Reconnect {s}") for s in SERVICES], name="Service"
    )

    def execute(self, context):
        check(context, self.service)
        self.report({"INFO"}, f"reconnecting {self.service}")
        return {"FINISHED"}


def _store_image(context, path):
    image = bpy.data.images.load(path, check_existing=False)
    image.pack()
    state(context).last_image = image.name


def _store_text(context, text):
    block = bpy.data.texts.new("Director script")
    block.write(text)
    state(context).last_text = block.name


def _store_clip(context, path):
    scene = context.scene
    editor = scene.sequence_editor or scene.sequence_editor_create()
    strip = editor.strips.new_movie("Director clip", path, channel=1, frame_start=1)
    state(context).last_clip = strip.name


class _Generate:
    service = ""

    def execute(self, context):
        if getattr(state(context), f"{self.service}_status") == "ERROR":
            self.report({"WARNING"}, f"{self.service} is not connected: trying anyway")
        settings, prompt = _urls(context), state(context).prompt
        work, done = self.plan(settings, prompt)
        _job(context, work, done)
        self.report({"INFO"}, f"{self.bl_label}: queued on {self.service}")
        return {"FINISHED"}


class DIRECTOR_OT_generate_image(_Generate, bpy.types.Operator):
    bl_idname = "director.generate_image"
    bl_label = "Generate image"
    service = "comfyui"

    def plan(self, s, prompt):
        return (lambda: backends.comfyui_image(s["comfyui"], prompt, s["timeout"])), _store_image


class DIRECTOR_OT_generate_script(_Generate, bpy.types.Operator):
    bl_idname = "director.generate_script"
    bl_label = "Generate script"
    service = "litellm"

    def plan(self, s, prompt):
        return (
            lambda: backends.litellm_chat(s["litellm"], s["key"], s["model"], prompt, s["timeout"])
        ), _store_text


class DIRECTOR_OT_generate_clip(_Generate, bpy.types.Operator):
    bl_idname = "director.generate_clip"
    bl_label = "Generate clip"
    service = "wan2gp"

    def plan(self, s, prompt):
        return (lambda: backends.wan2gp_clip(s["wan2gp"], prompt, s["timeout"])), _store_clip


ICONS = {"UNKNOWN": "QUESTION", "CHECKING": "SORTTIME", "CONNECTED": "CHECKMARK", "ERROR": "ERROR"}


class DIRECTOR_PT_connections(bpy.types.Panel):
    bl_idname = "DIRECTOR_PT_connections"
    bl_label = "Director connections"
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "Director"

    def draw(self, context):
        layout, st, p = self.layout, state(context), prefs(context)
        for service in SERVICES:
            status = getattr(st, f"{service}_status")
            box = layout.box()
            row = box.row()
            row.alert = status == "ERROR"
            row.label(text=f"{service}: {status.lower()}", icon=ICONS[status])
            op = row.operator("director.manual_reconnect", text="", icon="FILE_REFRESH")
            op.service = service
            box.prop(p, f"{service}_url")
            if status == "ERROR":
                box.label(text=getattr(st, f"{service}_error"), icon="INFO")
        layout.operator("director.refresh_connections", icon="FILE_REFRESH")
        layout.operator("director.watch_services", icon="VIEWZOOM")
        gen = layout.column()
        gen.enabled = st.jobs < 3
        gen.prop(st, "prompt")
        gen.operator("director.generate_image", icon="IMAGE_DATA")
        gen.operator("director.generate_script", icon="TEXT")
        gen.operator("director.generate_clip", icon="SEQUENCE")
        if st.last_error:
            err = layout.row()
            err.alert = True
            err.label(text=st.last_error, icon="ERROR")


CLASSES = (
    DirectorPreferences,
    DirectorState,
    DIRECTOR_OT_refresh_connections,
    DIRECTOR_OT_watch_services,
    DIRECTOR_OT_manual_reconnect,
    DIRECTOR_OT_generate_image,
    DIRECTOR_OT_generate_script,
    DIRECTOR_OT_generate_clip,
    DIRECTOR_PT_connections,
)


def register():
    for cls in CLASSES:
        bpy.utils.register_class(cls)
    bpy.types.Scene.director = bpy.props.PointerProperty(type=DirectorState)
    bpy.app.timers.register(drain, first_interval=0.1, persistent=True)
    bpy.app.timers.register(poll_connections, first_interval=1.0, persistent=True)
    bpy.app.timers.register(announce, first_interval=0.5)


def unregister():
    for timer in (announce, poll_connections, drain):
        if bpy.app.timers.is_registered(timer):
            bpy.app.timers.unregister(timer)
    del bpy.types.Scene.director
    for cls in reversed(CLASSES):
        bpy.utils.unregister_class(cls)
