"""The scaling model behind ``bench.py``'s numbers, and RESULTS.md.

While the workers' CPU stays below the cores, a worker is bound by waiting: it
finishes ``K / mean run time`` site runs a second. CPU per site run ``c`` then
says where a 2-core machine saturates (``2 / c`` runs a second). Ten machines give
ten times that, until a shared part saturates: Redis (one thread: one core over
its CPU per run), one Elasticsearch cluster (its cores over its CPU per run, each
write done twice with one replica) or the one scheduler (its enqueue rate).
Every cost is per site run, measured in phase B (the busier one).
"""
from __future__ import annotations

CORES = 2                  # this machine, and the machine assumed for each of the ten
ES_CLUSTER = (3, 2, 2)     # nodes, cores each, copies of every write (1 replica)


def _runs_equivalent(phase: dict) -> float:
    """Site runs' worth of work done in the window (pages served / pages a finished run
    fetches): runs cut off at the end count in part, so costs are not overstated."""
    return phase["requests_served"] / max(1.0, phase["pages_per_run"])


def model(result: dict) -> dict:
    a, b = result["phases"]["A"], result["phases"]["B"]
    runs = _runs_equivalent(b)
    per_run = {"worker_cpu_s": b["worker_cpu_per_run_s"],
               **{f"{k}_cpu_s": round(v / runs, 3) for k, v in b["infra_cpu_s"].items()},
               "redis_commands": round(b["redis_commands"] / runs, 1),
               "es_index_ops": round(b["es_ops"]["index_ops"] / runs, 1),
               "es_gets_searches": round((b["es_ops"]["gets"] + b["es_ops"]["searches"]) / runs, 1)}
    predicted = {p: round(ph["slots"] * 3600 / ph["run_seconds_mean"], 1) if ph["run_seconds_mean"] else None
                 for p, ph in (("A", a), ("B", b))}
    c = per_run["worker_cpu_s"]
    worker_per_h = b["crawls_per_worker"] * 3600 / b["run_seconds_mean"]
    # workers only on the machine (Redis, Elasticsearch elsewhere), and all of it on one box as here
    machine_per_h = CORES * 3600 / c
    all_on_one = CORES * 3600 / (c + per_run["redis_cpu_s"] + per_run["elasticsearch_cpu_s"])
    nodes, cores, copies = ES_CLUSTER
    # the real scheduler's rate (its jobs run in a thread pool), the slower of the two phases
    scheduler_rate = min(p["enqueue"]["queued"] / max(0.01, p["enqueue"]["first_to_last_queued_s"]) for p in (a, b))
    ceilings = {
        "ten_machines": round(10 * machine_per_h),
        "redis": round(3600 / per_run["redis_cpu_s"]) if per_run["redis_cpu_s"] else None,
        "elasticsearch_3_nodes": round(nodes * cores * 3600 / (copies * per_run["elasticsearch_cpu_s"]))
        if per_run["elasticsearch_cpu_s"] else None,
        "scheduler_enqueue": round(scheduler_rate * 3600),
    }
    limit = min((v, k) for k, v in ceilings.items() if v)
    rss = max(b["peak_rss_mb_per_worker"])
    return {"per_run": per_run, "predicted_runs_per_hour": predicted, "scheduler_tasks_per_s": round(scheduler_rate, 1),
            "worker_runs_per_hour_io_bound": round(worker_per_h, 1),
            "machine_runs_per_hour_cpu_bound": round(machine_per_h),
            "workers_per_machine_at_saturation": round(machine_per_h / worker_per_h, 1),
            "memory_at_saturation_gb": round(machine_per_h / worker_per_h * rss / 1024, 1),
            "all_on_one_machine_runs_per_hour": round(all_on_one),
            "ten_machines": ceilings, "ten_machines_runs_per_hour": limit[0], "ten_machines_limit": limit[1]}


def markdown(result: dict) -> str:
    a, b, s, m = result["phases"]["A"], result["phases"]["B"], result["settings"], result["model"]
    rows = [
        ("workers × crawls each (slots)", lambda p: f"{p['workers']} × {p['crawls_per_worker']} ({p['slots']})"),
        ("window (s)", lambda p: p["seconds"]),
        ("site runs finished (per worker)", lambda p: f"{p['site_runs']} ({', '.join(map(str, p['site_runs_per_worker']))})"),
        ("statuses", lambda p: ", ".join(f"{k} {v}" for k, v in p["statuses"].items())),
        ("**site runs / hour**", lambda p: f"**{p['site_runs_per_hour']}**"),
        ("site runs' worth of pages / hour (cut-off runs in part)", lambda p: p["run_equivalents_per_hour"]),
        ("predicted: slots × 3600 / mean run time", lambda p: m["predicted_runs_per_hour"]["B" if p is b else "A"]),
        ("run time mean / p95 (s)", lambda p: f"{p['run_seconds_mean']} / {p['run_seconds_p95']}"),
        ("pages served / s", lambda p: p["pages_per_s"]),
        ("pages per finished run; new articles", lambda p: f"{p['pages_per_run']}; {p['history']['articles_new']}"),
        ("run history: runs (ok) in the index", lambda p: f"{p['history']['runs']} ({p['history']['ok']})"),
        ("workers' CPU: cores used (of 2)", lambda p: p["worker_cores"]),
        ("workers' CPU per page (ms) / per site run (s)", lambda p: f"{p['worker_cpu_per_page_ms']} / {p['worker_cpu_per_run_s']}"),
        ("peak RSS per worker, worker + its crawl processes (MB)", lambda p: ", ".join(map(str, p["peak_rss_mb_per_worker"]))),
        ("CPU s: Redis / Elasticsearch / site server", lambda p: " / ".join(str(v) for v in p["infra_cpu_s"].values())),
        ("Redis commands (per s)", lambda p: f"{p['redis_commands']} ({p['redis_commands'] / p['seconds']:.1f})"),
        ("Elasticsearch index ops / gets+searches", lambda p: f"{p['es_ops']['index_ops']} / {p['es_ops']['gets'] + p['es_ops']['searches']}"),
        ("whole machine: cores busy; load average start → end", lambda p: f"{p['machine_cores_busy']}; {p['load_average'][0]} → {p['load_average'][1]}"),
        ("scheduler: queued, start → all queued (s)", lambda p: f"{p['enqueue']['queued']}, {p['enqueue']['start_to_all_queued_s']}"),
    ]
    pr, t = m["per_run"], m["ten_machines"]
    lines = [f"# Workers benchmark: latest run ({result['when']}, code {result.get('commit', 'not recorded')})", "",
             f"{s['sites']} generated sites (capacity benchmark), {s['latency'][0]}–{s['latency'][1]} s per response, "
             f"download delay {s['delay']} s, 2 requests at once per site; `newsmon worker --crawls {s['crawls']}`; "
             f"{s['minutes']:g} minutes a phase; Redis (append-only, fsync always) and one Elasticsearch node "
             f"({s['es_heap']}) on the same {s['cores']}-core machine. Written by `benchmarks/workers/bench.py`.", "",
             "| | phase A: 1 worker | phase B: 3 workers |", "|---|---|---|"]
    lines += [f"| {name} | {get(a)} | {get(b)} |" for name, get in rows]
    lines += ["", f"**Ratio B / A, site runs per hour: {result['ratio']}** (target ≥ 2.5); by pages served: "
              f"{result['ratio_by_pages']}.", "",
              "## Model (costs per site run, from phase B)", "",
              f"- Worker CPU {pr['worker_cpu_s']} s, Redis {pr['redis_cpu_s']} s ({pr['redis_commands']} commands), "
              f"Elasticsearch {pr['elasticsearch_cpu_s']} s ({pr['es_index_ops']} index ops, "
              f"{pr['es_gets_searches']} gets + searches), site server {pr['site_server_cpu_s']} s.",
              f"- I/O-bound, a worker with K={s['crawls']} does K / mean run time = "
              f"{m['worker_runs_per_hour_io_bound']} site runs/hour.",
              f"- A 2-core machine running only workers saturates its CPU at 2 / {pr['worker_cpu_s']} s = "
              f"{m['machine_runs_per_hour_cpu_bound']} site runs/hour, i.e. about "
              f"{m['workers_per_machine_at_saturation']} such workers, which need "
              f"{m.get('memory_at_saturation_gb')} GB at {max(b['peak_rss_mb_per_worker'])} MB each (a machine with "
              f"less memory saturates there first); with Redis and Elasticsearch on the same "
              f"2 cores (as here) {m['all_on_one_machine_runs_per_hour']} site runs/hour.",
              f"- Ten such machines: {t['ten_machines']} site runs/hour; shared-part ceilings: Redis (one core) "
              f"{t['redis']}, a 3-node 2-core Elasticsearch cluster with 1 replica {t['elasticsearch_3_nodes']}, "
              f"the scheduler's enqueue rate {t['scheduler_enqueue']} (the real scheduler queued "
              f"{m.get('scheduler_tasks_per_s')} tasks/s from first to last; the dispatch API one call at a time: "
              f"{result['enqueue_api']['per_s']} tasks/s, {result['enqueue_api']['cpu_ms_per_task']} ms CPU and "
              f"{result['enqueue_api'].get('wall_ms_per_task', '-')} ms wall each).",
              f"- Predicted for ten machines: **{m['ten_machines_runs_per_hour']} site runs/hour**, limited by "
              f"{m['ten_machines_limit']}."]
    return "\n".join(lines) + "\n"
