"""`skrender bulk`: render every service x environment of a monorepo, fast and safely.

Each render is exactly what ``skrender render <environment args>`` run in the service's
directory writes with ``--output`` (same flags, same ``skaffold.env``, same SKAFFOLD_*
variables), so bulk output is byte-identical to a loop of single renders.  What a loop
repeats is done once:

* git: one ``git status``/``describe``/``rev-list`` per repository answers every directory
  of every service (:func:`prime_git`, through :func:`engine.core.git.prime`);
* skaffold.yaml: parsed (and upgraded) once per service, and with a cache directory kept
  between runs (:class:`engine.gitops.kcache.ConfigStore`);
* digests: one registry look-up per distinct reference and worker process (:class:`DigestMemo`);
* kustomize: at most ``jobs`` builds at a time, through a content-addressed cache
  (:mod:`engine.gitops.kcache`) that survives runs;
* the render itself: kept as a template over its image references
  (:mod:`engine.gitops.rendercache`), so a run whose only change is new tags decodes, rewrites
  and writes no YAML;
* output: each manifest is written (atomically) as soon as it is rendered and then dropped.

Environments are named sets of render flags (``develop`` = none, ``production`` = ``-p
production``, :mod:`engine.gitops.environments`), from a ``skrender-bulk.yaml``
(:mod:`engine.gitops.bulkconfig`) or ``--env NAME=ARGS``.  Services are the directories
holding a ``skaffold.yaml`` below the roots, or an explicit list of globs, named after the
directory (``services/foo`` -> ``foo``, :mod:`engine.gitops.services`), as ``skrender gitops``
and ``skrender argocd`` name them: output goes to ``<out>/foo/<environment>/manifest.yaml`` and,
with publishing, to the branch ``foo/<environment>`` (one batch: :mod:`engine.gitops.publish`);
a dry run compares instead (:mod:`engine.gitops.branchread`).  ``--changed-since`` is
:mod:`engine.gitops.changes`.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from engine.core.errors import DigestError, SkrenderError, UsageError, said_once
from engine.gitops.bulkconfig import CONFIG_FILE as CONFIG_FILE
from engine.gitops.bulkconfig import BulkConfig as BulkConfig
from engine.gitops.bulkconfig import load_config as load_config
from engine.gitops.changes import changed_paths as changed_paths
from engine.gitops.changes import select_changed as select_changed
from engine.gitops.changes import service_inputs as service_inputs
from engine.gitops.environments import Environment as Environment
from engine.gitops.environments import RequestParser as RequestParser
from engine.gitops.environments import parse_env_spec as parse_env_spec
from engine.gitops.environments import render_request as render_request
from engine.gitops.environments import service_env as service_env
from engine.gitops.gitprime import prime_git as prime_git
from engine.gitops.services import DEFAULT_BRANCH_TEMPLATE
from engine.gitops.services import Service as Service  # bulk's unit of work, re-exported

MANIFEST_NAME = "manifest.yaml"


# --- model --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BulkOptions:
    """Everything one bulk run needs."""

    services: tuple[Service, ...]
    environments: tuple[Environment, ...]
    out_dir: str
    parse_request: RequestParser  # the command line's meaning of render flags (see above)
    jobs: int = 0  # 0: the number of CPUs
    cache_dir: str | None = None  # None: no kustomize cache
    publish_repo: str | None = None
    branch_template: str = DEFAULT_BRANCH_TEMPLATE
    publish_path: str = ""
    env: Mapping[str, str] | None = None  # None: os.environ
    share_git: bool = True
    # Dry run: render, then compare with the branches (with publish_repo) or with the files in
    # out_dir, writing and pushing nothing; ``diff`` also computes each change's diff.
    dry_run: bool = False
    diff: bool = True


@dataclass
class RenderOutcome:
    """The result of one service x environment render (one line of the report)."""

    service: str
    environment: str
    status: str = "pending"  # ok | failed
    output: str = ""
    images: list[dict[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    kustomize_seconds: float = 0.0
    kustomize_cache: dict[str, int] = field(default_factory=dict)
    error: str = ""
    exit_code: int = 0
    publish: dict[str, Any] | None = None
    # Whether the output changed: with publishing, the branch (would have) moved; without,
    # the file in OUT differs from the previous run's.  None when unknown (a failed render).
    changed: bool | None = None
    rendered: bool = False  # a manifest came out (publishing it may still have failed)
    diff: bytes = field(default=b"", repr=False)  # dry run: what publishing would change

    def as_json(self) -> dict[str, Any]:
        """The report entry."""
        entry: dict[str, Any] = {
            "service": self.service,
            "environment": self.environment,
            "status": self.status,
            "output": self.output,
            "images": self.images,
            "timings": {
                "render_s": round(self.seconds, 4),
                "kustomize_s": round(self.kustomize_seconds, 4),
            },
            "kustomize_cache": self.kustomize_cache,
        }
        if self.error:
            entry["error"] = self.error
            entry["exit_code"] = self.exit_code
        if self.publish is not None:
            entry["publish"] = self.publish
        if self.changed is not None:
            entry["changed"] = self.changed
        return entry


@dataclass
class BulkResult:
    """Every outcome, in service x environment order, and the run's totals."""

    outcomes: list[RenderOutcome]
    seconds: float
    cache: dict[str, int] = field(default_factory=dict)
    # Seconds per phase, in order: discover (the command's), render, publish or compare.
    phases: dict[str, float] = field(default_factory=dict)
    dry_run: bool = False
    render_cache: dict[str, int] = field(default_factory=dict)  # engine.gitops.rendercache

    @property
    def failed(self) -> list[RenderOutcome]:
        """The renders that failed."""
        return [o for o in self.outcomes if o.status != "ok"]

    @property
    def changed(self) -> list[RenderOutcome]:
        """The renders whose output (or branch) changed, or would in a dry run."""
        return [o for o in self.outcomes if o.changed]

    def counts(self) -> dict[str, int]:
        """rendered (a manifest came out, even if publishing it failed), failed, changed,
        unchanged (the last two where known) and published (a new commit pushed)."""
        return {
            "rendered": sum(1 for o in self.outcomes if o.rendered),
            "failed": len(self.failed),
            "changed": len(self.changed),
            "unchanged": sum(1 for o in self.outcomes if o.changed is False),
            "published": sum(1 for o in self.outcomes if o.publish and o.publish.get("commit")),
        }

    def as_json(self) -> dict[str, Any]:
        """The machine-readable report."""
        return {
            "version": 1,
            "renders": [o.as_json() for o in self.outcomes],
            "summary": {
                "total": len(self.outcomes),
                "ok": len(self.outcomes) - len(self.failed),
                "seconds": round(self.seconds, 3),
                "kustomize_cache": self.cache,
                "render_cache": self.render_cache,
                **self.counts(),
                "dry_run": self.dry_run,
                "phases": {name: round(s, 3) for name, s in self.phases.items()},
            },
        }


# --- services -----------------------------------------------------------------------------------


def discover_services(
    roots: Sequence[str],
    *,
    patterns: Sequence[str] = (),
    exclude: Sequence[str] = (),
    filename: str = "skaffold.yaml",
    base: str | None = None,
) -> list[Service]:
    """Service directories, sorted by name (:mod:`engine.gitops.services`: the name is the
    directory's base name, as ``skrender gitops`` and ``skrender argocd`` name it).

    Without ``patterns``: every directory at or below ``roots`` (relative to the working
    directory) holding ``filename``.  With them: the directories matching the globs
    (relative to ``base``, default the first root).  ``exclude`` globs match a name or a path
    relative to the root.  Two services with the same name are a :class:`ConfigError` naming
    both directories.
    """
    from engine.gitops import services

    if patterns:
        cwd = base or (roots[0] if roots else None)
        return services.match_services(patterns, config_name=filename, cwd=cwd, exclude=exclude)
    return services.find_services(roots or (".",), config_name=filename, exclude=exclude)


# The shard index a Kubernetes Indexed Job gives each pod (0-based); GitHub Actions matrix
# values are named by the workflow, so there the workflow passes ``--shard K/N`` itself.
SHARD_INDEX_VARIABLE = "JOB_COMPLETION_INDEX"


def parse_shard(spec: str, env: Mapping[str, str] | None = None) -> tuple[int, int]:
    """``K/N`` (1 <= K <= N) from ``--shard``; ``auto/N`` takes K from ``JOB_COMPLETION_INDEX``
    + 1 (a Kubernetes Indexed Job's completion index)."""
    index, slash, count = spec.partition("/")
    if index == "auto":
        return _auto_shard(spec, count if slash else "", os.environ if env is None else env)
    try:
        k, n = int(index), int(count)
    except ValueError:
        k = n = 0
    if not slash or n < 1 or not 1 <= k <= n:
        raise UsageError(
            f'invalid argument "{spec}" for "--shard" flag: expected K/N, 1<=K<=N, or auto/N'
        )
    return k, n


def _auto_shard(spec: str, count: str, env: Mapping[str, str]) -> tuple[int, int]:
    flag = f'invalid argument "{spec}" for "--shard" flag'
    try:
        n = int(count)
    except ValueError:
        n = 0
    if n < 1:
        raise UsageError(f"{flag}: auto needs the shard count: auto/N (N >= 1)")
    raw = env.get(SHARD_INDEX_VARIABLE)
    if raw is None:
        raise UsageError(
            f"{flag}: {SHARD_INDEX_VARIABLE} is not set (a Kubernetes Indexed Job sets it; "
            "elsewhere pass the shard: --shard K/N)"
        )
    try:
        index = int(raw.strip())
    except ValueError:
        index = -1
    if not 0 <= index < n:
        raise UsageError(
            f"{flag}: {SHARD_INDEX_VARIABLE}={raw.strip()[:40]!r} is not an index below {n} "
            "(it counts from 0; the Job's completions must equal N)"
        )
    return index + 1, n


def shard(services: Sequence[Service], index: int, count: int) -> list[Service]:
    """The services of shard ``index`` of ``count`` (1-based): a stable hash of the name decides,
    so every CI job computes the same split without talking to the others."""
    return [s for s in services if shard_of(s.name, count) == index]


def shard_of(name: str, count: int) -> int:
    """The 1-based shard of a service name (sha256, so stable across machines and Pythons)."""
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count + 1


# --- one render ---------------------------------------------------------------------------------


def image_entries(builds: Iterable[tuple[str, str]]) -> list[dict[str, str]]:
    """Report entries {image, reference, tag, digest} for the references rendered."""
    entries: list[dict[str, str]] = []
    for image, ref in builds:
        name, _, digest = ref.partition("@")
        tag = ""
        if ":" in name.rsplit("/", 1)[-1]:
            tag = name.rsplit(":", 1)[1]
        entries.append({"image": image, "reference": ref, "tag": tag, "digest": digest})
    return entries


# --- shared work: digests, git ------------------------------------------------------------------


class DigestMemo:
    """``engine.registry.resolve.resolve_digests`` memoised for one run: each distinct reference is
    looked up once, whichever render asks first; concurrent askers wait for that answer."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._futures: dict[tuple[Any, str], Future[str]] = {}

    def __call__(
        self,
        refs: Sequence[str],
        *,
        resolver: str = "auto",
        insecure_registries: Sequence[str] = (),
        jobs: int = 8,
        timeout: float = 60.0,
        env: Mapping[str, str] | None = None,
    ) -> dict[str, str]:
        """Same contract as ``resolve_digests``."""
        from engine.registry import resolve

        environ = dict(os.environ if env is None else env)
        context = (resolver, tuple(sorted(insecure_registries)), tuple(sorted(environ.items())))
        wanted: dict[str, Future[str]] = {}
        mine: list[str] = []
        with self._lock:
            for ref in dict.fromkeys(refs):
                future = self._futures.get((context, ref))
                if future is None:
                    future = Future()
                    self._futures[(context, ref)] = future
                    mine.append(ref)
                wanted[ref] = future

        def lookup(batch: Sequence[str]) -> dict[str, str]:
            return resolve.resolve_digests(
                batch,
                resolver=resolver,
                insecure_registries=insecure_registries,
                jobs=jobs,
                timeout=timeout,
                env=environ,
            )

        if mine:
            self._settle(mine, wanted, lookup)
        return self._collect(wanted)

    @staticmethod
    def _settle(
        mine: Sequence[str],
        wanted: Mapping[str, Future[str]],
        lookup: Callable[[Sequence[str]], dict[str, str]],
    ) -> None:
        try:
            found = lookup(mine)
        except DigestError:
            # one failure fails the batch: ask again one by one so each gets its own answer
            for ref in mine:
                try:
                    wanted[ref].set_result(lookup([ref])[ref])
                except DigestError as exc:
                    wanted[ref].set_exception(exc)
            return
        for ref in mine:
            wanted[ref].set_result(found[ref])

    @staticmethod
    def _collect(wanted: Mapping[str, Future[str]]) -> dict[str, str]:
        result: dict[str, str] = {}
        errors: list[str] = []
        for ref, future in wanted.items():
            exc = future.exception()
            if exc is not None:
                errors.append(str(exc))
            else:
                result[ref] = future.result()
        if errors:
            raise DigestError("\n".join(errors))
        return result


# --- the run ------------------------------------------------------------------------------------

ProgressCallback = Callable[[RenderOutcome, int, int], None]


def run_bulk(options: BulkOptions, progress: ProgressCallback | None = None) -> BulkResult:
    """Render every service x environment; one failure never stops the others.

    Each manifest is written atomically to ``<out>/<service>/<environment>/manifest.yaml`` as
    soon as it is rendered (a failed render leaves the previous file untouched) and, with
    ``publish_repo``, committed to its branch.  With ``dry_run`` renders go to a private
    scratch directory instead, and are compared with their branches (or, without
    ``publish_repo``, with the files in ``out``): nothing is written or pushed.
    ``progress(outcome, done, total)`` is called after each render, in the calling thread.

    The Python part of rendering is CPU-bound, so with several CPUs the services are split
    between forked worker processes (a service's environments stay together, sharing its
    parsed config and git answers); each runs renders on threads, and one semaphore shared
    by all bounds concurrent kustomize builds to ``jobs``.
    """
    start = time.perf_counter()
    if options.publish_repo:
        publish_target(options, "service", "environment")  # a bad template fails up front
    tasks = [(s, e) for s in options.services for e in options.environments]
    outcomes = [RenderOutcome(s.name, e.name) for s, e in tasks]
    phases: dict[str, float] = {}
    with _render_dir(options) as render_options:
        stats, render_stats = _render_all(render_options, tasks, outcomes, progress)
        phases["render"] = time.perf_counter() - start
        if options.dry_run:
            _compare_all(tasks, outcomes, options)
            phases["compare"] = time.perf_counter() - start - phases["render"]
    if options.publish_repo and not options.dry_run:
        _publish_all(tasks, outcomes, options)
        phases["publish"] = time.perf_counter() - start - phases["render"]
    seconds = time.perf_counter() - start
    return BulkResult(outcomes, seconds, stats, phases, options.dry_run, render_stats)


def _render_all(
    options: BulkOptions,
    tasks: Sequence[tuple[Service, Environment]],
    outcomes: list[RenderOutcome],
    progress: ProgressCallback | None,
) -> tuple[dict[str, int], dict[str, int]]:
    """Render every task into ``outcomes``; the kustomize and render cache counts."""
    import multiprocessing

    from engine.gitops import kcache

    jobs = options.jobs or os.cpu_count() or 1
    processes = min(os.cpu_count() or 1, len(options.services))
    methods = multiprocessing.get_all_start_methods()
    forked = processes > 1 and len(tasks) >= 8 and "fork" in methods
    if options.share_git and (not forked or options.publish_repo):
        # forked workers prime git for their own services, at the same time (_worker_main);
        # this process needs the answers only to render itself or to publish
        prime_git(options.services, lambda s: service_env(s, options.env))
    renders = _render_cache(options.cache_dir)
    with _parse_store(options.cache_dir):
        if forked:
            _preload()
            counts = _run_forked(options, tasks, outcomes, jobs, processes, progress, renders)
        else:
            cache = kcache.KustomizeCache(options.cache_dir, jobs=jobs)
            _run_threads(
                options, tasks, outcomes, range(len(tasks)), cache, jobs, progress, renders
            )
            stats = {
                "hits": cache.stats.hits,
                "misses": cache.stats.misses,
                "uncacheable": cache.stats.uncacheable,
            }
            counts = stats, (renders.stats.as_dict() if renders is not None else {})
    _trim_caches(options, renders, len(tasks))
    return counts


def _trim_caches(options: BulkOptions, renders: Any, renders_run: int) -> None:
    """Keep the caches bounded: the most recently used entries of a few runs like this one
    (:mod:`engine.gitops.cachedirs`); about one kustomize build and one config per render."""
    from engine.gitops import cachedirs, kcache

    if options.cache_dir is None:
        return
    keep = cachedirs.keep_count(renders_run)
    kcache.KustomizeCache(options.cache_dir).trim(keep)
    kcache.ConfigStore(options.cache_dir).trim(keep)
    if renders is not None:
        renders.trim(keep)


def _render_cache(cache_dir: str | None) -> Any:
    """The render cache (:mod:`engine.gitops.rendercache`), opened before any fork so the
    workers share its code stamp; None without a cache directory."""
    if cache_dir is None:
        return None
    from engine.gitops import rendercache

    renders = rendercache.RenderCache(cache_dir)
    renders.prune()
    return renders


@contextlib.contextmanager
def _render_dir(options: BulkOptions) -> Iterator[BulkOptions]:
    """The options to render with: as given, or for a dry run aimed at a private scratch
    directory (removed afterwards, SIGKILL included: :mod:`engine.gitops.scratch`)."""
    import dataclasses

    from engine.gitops.scratch import ScratchDir

    if not options.dry_run:
        yield options
        return
    scratch = ScratchDir("skrender-dry-run")
    try:
        yield dataclasses.replace(options, out_dir=os.path.join(scratch.path, "out"))
    finally:
        scratch.close()


@contextlib.contextmanager
def _parse_store(cache_dir: str | None) -> Iterator[None]:
    """With a cache directory, parsed skaffold configs persist between runs
    (:class:`engine.gitops.kcache.ConfigStore`); forked workers inherit the setting."""
    from engine.gitops import kcache
    from engine.skaffold import config

    previous = config.parse_store
    if cache_dir is not None:
        store = kcache.ConfigStore(cache_dir)
        store.prune()
        config.parse_store = store
    try:
        yield
    finally:
        config.parse_store = previous


def _preload() -> None:
    """Import the render pipeline once, before forking, instead of once in every worker."""
    import importlib

    for name in (
        "engine.pipeline",
        "engine.skaffold.config",
        "engine.skaffold.upgrade",
        "engine.skaffold.profiles",
        "engine.stages.tagging",
        "engine.stages.naming",
        "engine.stages.sources",
        "engine.stages.rewrite",
        "engine.yamlv3",
        "engine.golang.texttemplate",
        "engine.core.output",
        "engine.gitops.kcache",
        "engine.gitops.rendercache",
        "engine.stages.reftemplate",
        "ruamel.yaml",
    ):
        try:
            importlib.import_module(name)
        except ImportError:
            continue


def _run_threads(
    options: BulkOptions,
    tasks: Sequence[tuple[Service, Environment]],
    outcomes: list[RenderOutcome],
    indices: Sequence[int],
    cache: Any,
    jobs: int,
    progress: ProgressCallback | None,
    renders: Any = None,
) -> None:
    """Render ``indices`` of ``tasks`` on threads, calling ``progress`` one at a time
    (``renders``: the render cache, or None)."""
    digests = DigestMemo()
    done_lock = threading.Lock()
    done = [0]

    def work(index: int) -> None:
        service, environment = tasks[index]
        _render_one(service, environment, outcomes[index], options, cache, digests, renders)
        if progress is not None:
            with done_lock:
                done[0] += 1
                progress(outcomes[index], done[0], len(indices))

    # More threads than kustomize slots: while `jobs` kustomize processes run, other threads
    # do the Python part of their renders (the semaphore in KustomizeCache bounds kustomize).
    workers = max(1, min(len(indices), jobs * 2 + 1))
    if workers == 1:
        for index in indices:
            work(index)
        return
    _ElasticThreads(work, indices, workers).run()


class _ElasticThreads:
    """Run ``work`` on each item with up to ``limit`` threads, starting with one and adding
    one whenever every thread is waiting on its item (on kustomize, git, a registry) or an
    item mostly waited.

    A warm run's renders never wait: more threads would only take turns holding the GIL, each
    turn a futex round trip per system call (a third of a warm run's time).  A cold run's first
    kustomize builds grow the pool to its limit within milliseconds.
    """

    WAIT_SECONDS = 0.005  # an item waiting this long adds a thread
    POLL_SECONDS = 0.02  # how often run() looks (each look takes the GIL from a render)

    def __init__(self, work: Callable[[Any], None], items: Iterable[Any], limit: int) -> None:
        self._work = work
        self._items = iter(items)
        self._left = True  # items not yet handed out
        self._limit = limit
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        # thread id -> (wall clock, its CPU clock) when its current item started
        self._busy_since: dict[int, tuple[float, float]] = {}
        self._errors: list[BaseException] = []

    def run(self) -> None:
        """Work through every item; re-raises the first exception ``work`` raised."""
        self._add_thread()
        while True:
            with self._lock:
                running = [t for t in self._threads if t.is_alive()]
            if not running:
                break
            running[0].join(self.POLL_SECONDS)
            with self._lock:
                busy = list(self._busy_since.items())
                left = self._left
            if left and busy and all(_waited(*item) > self.WAIT_SECONDS for item in busy):
                self._add_thread()
        if self._errors:
            raise self._errors[0]

    def _add_thread(self) -> None:
        with self._lock:
            if len(self._threads) >= self._limit:
                return
            thread = threading.Thread(target=self._loop, name="bulk", daemon=True)
            self._threads.append(thread)
        thread.start()

    def _loop(self) -> None:
        me = threading.get_ident()
        while True:
            with self._lock:
                item = next(self._items, _DONE)
                if item is _DONE:
                    self._left = False
                    self._busy_since.pop(me, None)
                    return
                wall, cpu = time.perf_counter(), time.thread_time()
                self._busy_since[me] = (wall, cpu)
            try:
                self._work(item)
            except BaseException as exc:  # handed to run()'s caller, as a pool would
                with self._lock:
                    self._errors.append(exc)
                continue
            waited = (time.perf_counter() - wall) - (time.thread_time() - cpu)
            if waited > self.WAIT_SECONDS:
                self._add_thread()


_DONE = object()


def _waited(thread_id: int, since: tuple[float, float]) -> float:
    """Seconds a thread spent off its CPU since ``since`` (wall clock, its CPU clock); all of
    them where a thread's CPU clock cannot be read."""
    wall, cpu = since
    try:
        used = time.clock_gettime(time.pthread_getcpuclockid(thread_id)) - cpu
    except (AttributeError, OSError):
        used = 0.0
    return time.perf_counter() - wall - used


def _run_forked(
    options: BulkOptions,
    tasks: Sequence[tuple[Service, Environment]],
    outcomes: list[RenderOutcome],
    jobs: int,
    processes: int,
    progress: ProgressCallback | None,
    renders: Any = None,
) -> tuple[dict[str, int], dict[str, int]]:
    """Split the tasks by service over forked workers; collect outcomes as they finish."""
    import multiprocessing
    import queue as queue_mod

    ctx = multiprocessing.get_context("fork")
    slots = ctx.BoundedSemaphore(max(1, jobs))
    results: Any = ctx.Queue()
    names = sorted({s.name for s, _ in tasks})
    owner = {name: i % processes for i, name in enumerate(names)}
    shares = [[i for i, (s, _) in enumerate(tasks) if owner[s.name] == p] for p in range(processes)]
    workers = [
        ctx.Process(
            target=_worker_main,
            args=(options, tasks, share, jobs, slots, results, renders),
            daemon=True,
        )
        for share in shares
        if share
    ]
    for worker in workers:
        worker.start()
    totals = {"hits": 0, "misses": 0, "uncacheable": 0}
    render_totals = {"hits": 0, "misses": 0, "uncacheable": 0} if renders is not None else {}
    pending = set(range(len(tasks)))
    finished_workers = 0
    done = 0
    while finished_workers < len(workers):
        try:
            message = results.get(timeout=1.0)
        except queue_mod.Empty:
            if not any(w.is_alive() for w in workers) and results.empty():
                break
            continue
        if message[0] == "stats":
            finished_workers += 1
            for key, value in message[1].items():
                totals[key] += value
            for key, value in message[2].items():
                render_totals[key] += value
            continue
        index, outcome = message[1], message[2]
        outcomes[index] = outcome
        pending.discard(index)
        done += 1
        if progress is not None:
            progress(outcome, done, len(tasks))
    for worker in workers:
        worker.join(timeout=5.0)
    for index in sorted(pending):  # a worker died: say so for each of its renders
        outcome = outcomes[index]
        outcome.status, outcome.exit_code = "failed", 3
        outcome.error = "internal error: the worker process rendering this service died"
        done += 1
        if progress is not None:
            progress(outcome, done, len(tasks))
    return totals, render_totals


def _worker_main(
    options: BulkOptions,
    tasks: Sequence[tuple[Service, Environment]],
    indices: Sequence[int],
    jobs: int,
    slots: Any,
    results: Any,
    renders: Any = None,
) -> None:
    """A forked worker: render its share on threads, send each outcome, then its cache stats."""
    from engine.gitops import kcache

    if options.share_git:  # this worker's services (their git answers may be inherited)
        mine = {id(tasks[i][0]): tasks[i][0] for i in indices}
        prime_git(list(mine.values()), lambda s: service_env(s, options.env))
    cache = kcache.KustomizeCache(options.cache_dir, jobs=jobs, slots=slots)
    outcomes = [RenderOutcome(s.name, e.name) for s, e in tasks]

    def send(outcome: RenderOutcome, _done: int, _total: int) -> None:
        index = lookup[id(outcome)]
        results.put(("outcome", index, outcome))

    lookup = {id(outcomes[i]): i for i in indices}
    _run_threads(options, tasks, outcomes, indices, cache, jobs, send, renders)
    stats = cache.stats
    results.put(
        (
            "stats",
            {"hits": stats.hits, "misses": stats.misses, "uncacheable": stats.uncacheable},
            renders.stats.as_dict() if renders is not None else {},
        )
    )
    results.close()
    results.join_thread()


def _render_one(
    service: Service,
    environment: Environment,
    outcome: RenderOutcome,
    options: BulkOptions,
    cache: Any,
    digests: DigestMemo,
    renders: Any = None,
) -> None:
    """Render, write and (optionally) publish one service x environment into ``outcome``
    (``renders``: the render cache, or None)."""
    from engine.pipeline import render

    start = time.perf_counter()
    counts = {"hit": 0, "miss": 0, "uncached": 0}
    kustomize_time = [0.0]

    def runner(argv: Sequence[str], *, cwd: str, env: Mapping[str, str] | None) -> bytes:
        t0 = time.perf_counter()
        out, how = cache.run(argv, cwd=cwd, env=env)
        kustomize_time[0] += time.perf_counter() - t0
        counts[how] += 1
        return bytes(out)

    target = os.path.join(options.out_dir, service.name, environment.name)
    path = os.path.join(target, MANIFEST_NAME)
    try:
        request = render_request(service, environment, options.parse_request, options.env)
        request = request._replace(
            kustomize_runner=runner, resolve_digests=digests, render_cache=renders
        )
        result = render(request)
        outcome.images = image_entries(result.builds)
        os.makedirs(target, exist_ok=True)
        data = result.text.encode("utf-8", "surrogateescape")
        del result
        outcome.changed = _read_or_none(path) != data
        if outcome.changed:  # unchanged output: no rewrite
            write_output(path, data)
        outcome.output = path
        outcome.status = "ok"
        outcome.rendered = True
    except SkrenderError as exc:
        outcome.status = "failed"
        outcome.error = said_once(str(exc))  # the report says each line once
        outcome.exit_code = exc.exit_code
    except Exception as exc:  # a bug in one render must not stop the others
        outcome.status = "failed"
        outcome.error = f"internal error: {type(exc).__name__}: {exc}"
        outcome.exit_code = 3
    outcome.seconds = time.perf_counter() - start
    outcome.kustomize_seconds = kustomize_time[0]
    outcome.kustomize_cache = {k: v for k, v in counts.items() if v}


def write_output(path: str, data: bytes) -> None:
    """Write ``path`` as every output (atomic for a regular file), without fsync: outputs
    are regenerated by running again."""
    from engine.core import output

    output.write_output(path, data, durable=False)


def _read_or_none(path: str) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError:
        return None


def _publish_all(
    tasks: Sequence[tuple[Service, Environment]],
    outcomes: list[RenderOutcome],
    options: BulkOptions,
) -> None:
    """Commit every successful render to its branch in one batch (one push for them all;
    ``skrender gitops``'s layout and commit message); a render that cannot be published
    is marked failed."""
    from engine.gitops.publish import Target, commit_message, publish_many

    assert options.publish_repo is not None
    chosen: list[RenderOutcome] = []
    targets: list[Target] = []
    for (service, environment), outcome in zip(tasks, outcomes, strict=True):
        data = _read_or_none(outcome.output) if outcome.status == "ok" and outcome.output else None
        if data is None:
            continue
        branch, path = publish_target(options, service.name, environment.name)
        env = service_env(service, options.env)
        context = {
            "service": service.name,
            "environment": environment.name,
            "images": " ".join(i["reference"] for i in outcome.images),
            "source_commit": _source_commit(service, env),
        }
        message = commit_message(None, context, env)
        targets.append(Target(branch, {MANIFEST_NAME: data}, path=path, message=message))
        chosen.append(outcome)
    if not targets:
        return
    try:
        results = publish_many(repo=options.publish_repo, targets=targets, env=options.env)
    except SkrenderError as exc:
        for outcome in chosen:
            _publish_failed(outcome, str(exc), exc.exit_code)
        return
    for outcome, result in zip(chosen, results, strict=True):
        if result.error is not None:
            _publish_failed(outcome, result.error, 1)
        else:
            outcome.changed = result.changed
            outcome.publish = {
                "branch": result.branch,
                "commit": result.commit,
                "changed": result.changed,
            }


def _publish_failed(outcome: RenderOutcome, error: str, exit_code: int) -> None:
    outcome.status, outcome.error, outcome.exit_code = "failed", error, exit_code
    outcome.changed = None


# --- dry run --------------------------------------------------------------------------------


def _compare_all(
    tasks: Sequence[tuple[Service, Environment]],
    outcomes: list[RenderOutcome],
    options: BulkOptions,
) -> None:
    """Set each rendered outcome's ``changed`` (and ``diff``) against what publishing or
    writing would replace; the scratch output it was rendered to is forgotten."""
    rendered = [
        (service, environment, outcome)
        for (service, environment), outcome in zip(tasks, outcomes, strict=True)
        if outcome.status == "ok" and outcome.output
    ]
    if options.publish_repo:
        _compare_with_branches(rendered, options)
    else:
        _compare_with_out(rendered, options)
    for _, _, outcome in rendered:
        outcome.output = ""  # the scratch file is gone: nothing was written


def _compare_with_branches(
    rendered: Sequence[tuple[Service, Environment, RenderOutcome]], options: BulkOptions
) -> None:
    from engine.gitops import branchread

    assert options.publish_repo is not None
    files = []
    for service, environment, outcome in rendered:
        branch, path = publish_target(options, service.name, environment.name)
        inside = "/".join(p for p in (*path.split("/"), MANIFEST_NAME) if p not in ("", "."))
        files.append(branchread.RenderedFile(branch, inside, outcome.output))
    try:
        changes = branchread.compare(
            options.publish_repo, files, diff=options.diff, env=options.env
        )
    except SkrenderError as exc:
        for _, _, outcome in rendered:
            _publish_failed(outcome, str(exc), exc.exit_code)
        return
    for (_, _, outcome), file, change in zip(rendered, files, changes, strict=True):
        if change.error is not None:
            _publish_failed(outcome, change.error, 1)
            continue
        outcome.changed, outcome.diff = change.changed, change.diff
        outcome.publish = {"branch": file.branch, "commit": None, "changed": change.changed}


def _compare_with_out(
    rendered: Sequence[tuple[Service, Environment, RenderOutcome]], options: BulkOptions
) -> None:
    from engine.gitops import gitdiff, gitobjects

    for service, environment, outcome in rendered:
        new = _read_or_none(outcome.output) or b""
        old = _read_or_none(
            os.path.join(options.out_dir, service.name, environment.name, MANIFEST_NAME)
        )
        outcome.changed = old != new
        if outcome.changed and options.diff:
            label = f"{service.name}/{environment.name}/{MANIFEST_NAME}"
            old_id = gitobjects.object_id("blob", old) if old is not None else ""
            new_id = gitobjects.object_id("blob", new)
            outcome.diff = gitdiff.file_diff(label, old, new, old_id, new_id)


def publish_target(options: BulkOptions, service: str, environment: str) -> tuple[str, str]:
    """(branch, path) one render is published to: the templates with ``{service}`` and
    ``{environment}`` filled in (:func:`engine.gitops.services.expand`, as ``skrender gitops``)."""
    from engine.gitops.services import expand

    values = {"service": service, "environment": environment}
    branch = expand(options.branch_template, values, flag="--branch-template")
    return branch, expand(options.publish_path, values, flag="publish.path")


def _source_commit(service: Service, env: Mapping[str, str]) -> str:
    """HEAD of the service's repository (answered by :func:`prime_git` when primed)."""
    from engine.core import git
    from engine.core.errors import ToolError

    try:
        return git.run_git(service.directory, "rev-list", "-1", "HEAD", env=env)
    except ToolError:
        return ""
