"""Report layouts of scenarios A, D, E and F (report.py keeps B, the one with a chart)."""

TARGET_F_RATIO = 3.0
TARGET_D_RSS_MB = 150
TARGET_D_FLOWS = 122_000


def packets(doc, generic, fmt, table):
    def derive(r):
        reasons = []
        if r["iface_packets"] < 1000:
            reasons.append("no flood on the veth")
        if r["agent_packets"] <= 0:
            reasons.append("the agent read no packet")
        if r["tcpdump_packets"] <= 0:
            reasons.append("tcpdump captured no packet")
        r["valid"] = not reasons
        r["invalid_reason"] = "; ".join(reasons) or None
        if reasons:
            return
        r["pps"] = r["iface_packets"] / r["duration_s"]
        r["agent_ns_per_packet"] = r["agent_cpu_s"] * 1e9 / r["agent_packets"]
        r["tcpdump_ns_per_packet"] = r["tcpdump_cpu_s"] * 1e9 / r["tcpdump_packets"]
        idle = r["agent_idle_cpu_s"] / r["agent_idle_window_s"] * r["measured_window_s"]
        r["agent_idle_cores"] = r["agent_idle_cpu_s"] / r["agent_idle_window_s"]
        # Below the idle rate the flood's own cost is lost in the agent's background noise.
        r["agent_above_idle_ns_per_packet"] = ((r["agent_cpu_s"] - idle) * 1e9 / r["agent_packets"]
                                               if r["agent_cpu_s"] > idle else None)
        r["ratio_vs_tcpdump"] = (r["agent_ns_per_packet"] / r["tcpdump_ns_per_packet"]
                                 if r["tcpdump_ns_per_packet"] else None)

    keys = [("round", "round"), (lambda r: round(r["pps"]), "packets/s on psba0"),
            ("agent_packets", "agent packets"), (lambda r: fmt(r["agent_cpu_s"], 2), "agent CPU s"),
            (lambda r: fmt(r["agent_ns_per_packet"], 0), "agent ns/packet"),
            (lambda r: fmt(r["agent_idle_cores"], 3), "agent idle CPU cores"),
            (lambda r: fmt(r["agent_above_idle_ns_per_packet"], 0) if r["agent_above_idle_ns_per_packet"] is not None
             else "below idle", "agent ns/packet above idle"),
            ("agent_kernel_drops", "agent kernel drops"),
            ("tcpdump_packets", "tcpdump packets"), (lambda r: fmt(r["tcpdump_cpu_s"], 2), "tcpdump CPU s"),
            (lambda r: fmt(r["tcpdump_ns_per_packet"], 0), "tcpdump ns/packet"),
            ("tcpdump_kernel_drops", "tcpdump kernel drops"),
            (lambda r: fmt(r["ratio_vs_tcpdump"], 2), "agent ÷ tcpdump"),
            (lambda r: fmt(r["agent_rss_kb"] / 1024, 0), "agent RSS MB"), ("load1", "load1")]
    out = generic(doc, "Scenario F — UDP flood on veth: agent vs tcpdump, same packets, same run", keys, derive,
                  notes=[f"iperf3 -u -b 0 -l {doc['runs'][0]['payload_bytes'] if doc['runs'] else '?'} "
                         "from netns psba to psbb through a bridge; the agent (packet.interfaces [psba0], "
                         "the socket tracer limited to an unused port) and `tcpdump -n -w /dev/null -i psba0` "
                         "capture the same interface at the same time (the socket tracer limited to an unused port). Packets counted on psba0 are rx+tx "
                         "(the flood's datagrams plus a few iperf3 control packets)."])
    valid = [r for r in doc["runs"] if r["valid"] and r["ratio_vs_tcpdump"] is not None]
    out.append("Targets:")
    out.append("")
    if valid:
        agent = sum(r["agent_cpu_s"] for r in valid) * 1e9 / sum(r["agent_packets"] for r in valid)
        td = sum(r["tcpdump_cpu_s"] for r in valid) * 1e9 / sum(r["tcpdump_packets"] for r in valid)
        ratio = agent / td if td else None
        above_runs = [r for r in valid if r["agent_above_idle_ns_per_packet"] is not None]
        above = (sum(r["agent_above_idle_ns_per_packet"] * r["agent_packets"] for r in above_runs)
                 / sum(r["agent_packets"] for r in above_runs)) if above_runs else None
        ratio_above = above / td if td and above is not None else None
        out += table(["what", "target", "measured", ""],
                     [["agent CPU per packet ÷ tcpdump's", f"≤ {TARGET_F_RATIO:.0f}×",
                       f"{fmt(ratio, 2)}× ({agent:.0f} ns vs {td:.0f} ns)",
                       "pass" if ratio is not None and ratio <= TARGET_F_RATIO else "MISS"],
                      ["same, agent's idle CPU subtracted", f"≤ {TARGET_F_RATIO:.0f}×",
                       f"{fmt(ratio_above, 2)}× ({above:.0f} ns vs {td:.0f} ns)" if ratio_above is not None
                       else "INVALID (the agent used less CPU in the flood than idle: background noise dominates)",
                       ("pass" if ratio_above <= TARGET_F_RATIO else "MISS") if ratio_above is not None else "–"]])
    else:
        out += table(["what", "target", "measured", ""],
                     [["agent CPU per packet ÷ tcpdump's", f"≤ {TARGET_F_RATIO:.0f}×", "INVALID (no valid round)", "–"]])
    out.append("")
    return out


def connections(doc, generic, fmt, table):
    def derive(r):
        reasons = []
        if r["connected"] < 0.95 * r["target_connections"]:
            reasons.append(f"only {r['connected']} of {r['target_connections']} connections opened")
        if r["flows_active"] <= 0:
            reasons.append("the agent holds no flow")
        r["valid"] = not reasons
        r["invalid_reason"] = "; ".join(reasons) or None
        grown = (r["agent_rss_kb"] - r["agent_rss_before_kb"]) * 1024
        r["rss_growth_bytes_per_flow"] = grown / r["flows_active"] if r["flows_active"] else None

    keys = [("target_connections", "connections asked"), ("connected", "connections held"),
            ("flows_active", "agent flows active"),
            (lambda r: fmt(r["agent_rss_before_kb"] / 1024, 0), "agent RSS before MB"),
            (lambda r: fmt(r["agent_rss_kb"] / 1024, 0), "agent RSS holding MB"),
            (lambda r: fmt(r["agent_heap_used_bytes"] / 2**20, 0), "heap used MB"),
            (lambda r: fmt(r["rss_growth_bytes_per_flow"], 0), "RSS growth bytes/flow"),
            ("packets", "agent packets"), ("agent_kernel_drops", "kernel drops"),
            (lambda r: fmt(r["open_s"], 1), "open time s"), ("load1", "load1")]
    out = generic(doc, "Scenario D — concurrent TCP connections through veth", keys, derive,
                  notes=["A Java holder (io.periscope.bench.scenario.ConnectionHolder) opens the connections "
                         "from netns psba to psbb at a bounded rate and holds them idle, one server port and one client "
                         "process per shard (each under the fd hard limit, 20000 here without CAP_SYS_RESOURCE); "
                         "the agent captures on psba0 (default flow_map: 262144 flows, established timeout 5m)."])
    out.append("Targets:")
    out.append("")
    rows = []
    for r in doc["runs"]:
        if not r["valid"]:
            rows.append([f"{TARGET_D_FLOWS} flows within {TARGET_D_RSS_MB} MB RSS", "", "INVALID: " + r["invalid_reason"], "–"])
            continue
        mb = r["agent_rss_kb"] / 1024
        ok = r["flows_active"] >= TARGET_D_FLOWS and mb <= TARGET_D_RSS_MB
        rows.append([f"{TARGET_D_FLOWS} flows within {TARGET_D_RSS_MB} MB RSS",
                     f"≥ {TARGET_D_FLOWS}, ≤ {TARGET_D_RSS_MB} MB", f"{r['flows_active']} flows, {mb:.0f} MB",
                     "pass" if ok else "MISS"])
    out += table(["what", "target", "measured", ""], rows)
    out.append("")
    return out


def throughput(doc, generic, fmt, table):
    def derive(r):
        reasons = []
        if r["gbps"] <= 0:
            reasons.append("iperf3 moved no data")
        if r["mode"] == "on" and r["agent_packets"] <= 0:
            reasons.append("the agent read no packet")
        r["valid"] = not reasons
        r["invalid_reason"] = "; ".join(reasons) or None
        r["agent_cores"] = r["agent_cpu_s"] / r["duration_s"]

    keys = [("mode", "agent"), (lambda r: fmt(r["gbps"], 2), "iperf3 Gbit/s"),
            (lambda r: fmt(r["agent_cores"], 3) if r["mode"] == "on" else "–", "agent CPU cores"),
            (lambda r: fmt(r["agent_rss_kb"] / 1024, 0) if r["mode"] == "on" else "–", "agent RSS MB"),
            ("agent_packets", "agent packets"), ("agent_kernel_drops", "kernel drops"),
            ("spans", "spans"), ("load1", "load1")]
    out = generic(doc, "Scenario E — iperf3 TCP through veth", keys, derive,
                  notes=["iperf3 TCP (one stream, as fast as it goes) from netns psba to psbb; the agent with "
                          "its default config except packet.interfaces [psba0] and the socket tracer limited to "
                          "iperf3's port (it sees iperf3's syscalls; other jobs' traffic is filtered in the kernel). Runs alternate off/on in one run."])
    offs = [r["gbps"] for r in doc["runs"] if r["mode"] == "off" and r["valid"]]
    ons = [r for r in doc["runs"] if r["mode"] == "on" and r["valid"]]
    if offs and ons:
        off = sum(offs) / len(offs)
        on = sum(r["gbps"] for r in ons) / len(ons)
        out.append(f"Throughput with the agent: {on:.2f} Gbit/s vs {off:.2f} off ({(on / off - 1) * 100:+.0f}%); "
                   f"agent CPU {sum(r['agent_cores'] for r in ons) / len(ons):.3f} cores, "
                   f"RSS up to {max(r['agent_rss_kb'] for r in ons) / 1024:.0f} MB.")
    else:
        out.append("Throughput comparison: INVALID (no valid off and on runs).")
    out.append("")
    return out


CHAIN_PARTS = ("nginx", "backend", "redis", "postgres")
# The spans one transaction should make, as "<process> <kind> <protocol>" from the sink; redis's
# process name is whatever its executable resolves to (Debian: redis-server -> redis-check-rdb).
CHAIN_HOPS = ("h2load client http", "nginx server http", "nginx client http", "java server http",
              "java client redis", "redis server redis", "java client postgresql", "postgres server postgresql")


def expected_hop(key):
    if key in CHAIN_HOPS:
        return key
    if key.startswith("redis") and key.endswith(" server redis"):
        return "redis server redis"
    return "– (not part of the chain)"
RATE_TOLERANCE = 0.05


def chain(doc, generic, fmt, table):
    import report  # noqa: the shared header and notes
    e2e = [r for r in doc["runs"] if r["mode"] == "e2e"]
    runs = [r for r in doc["runs"] if r["mode"] != "e2e"]
    for r in runs:
        r["achieved_rps"] = r["requests"] / r["duration_s"] if r["duration_s"] else 0.0
        reasons = []
        if r["requests"] == 0:
            reasons.append("h2load completed no request")
        if r["failed"] or r["status_5xx"] or r["backend_failed"]:
            reasons.append(f"{r['failed']} requests failed, {r['status_5xx']} answered 5xx, "
                           f"{r['backend_failed']} backend errors")
        target = float(r["rate"])
        if r["requests"] and abs(r["achieved_rps"] - target) > RATE_TOLERANCE * target:
            reasons.append(f"achieved {r['achieved_rps']:.0f} req/s, not {target:.0f} ±5%")
        if r["mode"] == "on" and r["spans"] <= 0:
            reasons.append("the agent reported no spans")
        r["valid"] = not reasons
        r["invalid_reason"] = "; ".join(reasons) or None
        r["chain_cpu_s"] = sum(r[f"{p}_cpu_s"] for p in CHAIN_PARTS)
        r["chain_us_per_req"] = r["chain_cpu_s"] * 1e6 / r["requests"] if r["requests"] else None
        r["agent_us_per_req"] = r["agent_cpu_s"] * 1e6 / r["requests"] if r["requests"] else None
        r["spans_per_txn"] = r["spans"] / r["requests"] if r["requests"] else None
    rates = []
    for r in runs:
        if r["rate"] not in rates:
            rates.append(r["rate"])
    base = {}
    for rate in rates:
        offs = [r for r in runs if r["rate"] == rate and r["mode"] == "off" and r["valid"]]
        reqs = sum(r["requests"] for r in offs)
        if reqs:
            base[rate] = {"n": len(offs), "chain_us_per_req": sum(r["chain_cpu_s"] for r in offs) * 1e6 / reqs,
                          "p50_us": sorted(r["p50_us"] for r in offs)[len(offs) // 2],
                          "p90_us": sorted(r["p90_us"] for r in offs)[len(offs) // 2]}
    for r in runs:
        b = base.get(r["rate"])
        r["compared_with"] = ("– (baseline)" if r["mode"] == "off" else
                              f"off at {r['rate']} (mean of {b['n']})" if b else "no valid off run")
        r["p50_increase"] = r["p90_increase"] = r["chain_cpu_increase"] = None
        if r["mode"] == "on" and b and r["valid"]:
            r["p50_increase"] = r["p50_us"] / b["p50_us"] - 1 if b["p50_us"] else None
            r["p90_increase"] = r["p90_us"] / b["p90_us"] - 1 if b["p90_us"] else None
            r["chain_cpu_increase"] = r["chain_us_per_req"] / b["chain_us_per_req"] - 1
            # Everything the agent adds per request: its own CPU plus what the chain spent more.
            r["added_us_per_req"] = r["agent_us_per_req"] + r["chain_us_per_req"] - b["chain_us_per_req"]

    out = report.header(doc, "Scenario A — chain: h2load → nginx → Java backend → redis + postgresql")
    quick_note = report.steady_state_note(doc, [dict(x, mode="on") for x in runs])
    out += [quick_note, ""]
    out.append(f"h2load --h1 -c {runs[0]['clients'] if runs else '?'} --rps on CPU 1 → nginx (one worker, reverse "
               "proxy, keep-alive upstream) → io.periscope.bench.chain.ChainBackend (JDK HttpServer; per request "
               "one redis GET over RESP and one postgresql SELECT through pgjdbc, a prepared statement) → "
               "redis-server and postgres 15, all four on CPU 0. Agent: default config, full parsing, OTLP/gRPC "
               "to the counting sink on CPU 1, socket tracer limited to the chain's ports, guard off. Chain CPU = "
               "nginx + backend JVM + redis + postgres (postmaster and its backends), from /proc. Off runs are "
               "measured before and after the agent's; every connection is re-opened after the agent starts.")
    out.append("")
    rows = []
    for rate in rates:
        for mode in ("off", "on"):
            for r in (x for x in runs if x["rate"] == rate and x["mode"] == mode):
                if not r["valid"]:
                    rows.append([rate, mode, r["compared_with"], "INVALID: " + r["invalid_reason"]] + [""] * 11)
                    continue
                on = mode == "on"
                pct = (lambda v: f"{v * 100:+.1f}%" if v is not None else "–")
                rows.append([rate, mode, r["compared_with"], round(r["achieved_rps"]),
                             f"{r['p50_us']}/{r['p90_us']}/{r['p99_us']}",
                             f"{pct(r['p50_increase'])} / {pct(r['p90_increase'])}" if on else "–",
                             fmt(r["chain_cpu_s"] / r["duration_s"], 3), fmt(r["chain_us_per_req"], 0),
                             pct(r["chain_cpu_increase"]) if on else "–",
                             fmt(r["agent_cpu_s"] / r["duration_s"], 3) if on else "–",
                             fmt(r["agent_us_per_req"], 0) if on else "–",
                             fmt(r["spans_per_txn"], 2) if on else "–",
                             f"{r['lost_events']} / {r['dropped']} / {r['export_dropped']}" if on else "–",
                             report.received(r) if on else "–", r["load1"]])
    out += table(["rate req/s", "agent", "compared with", "achieved req/s", "latency P50/P90/P99 µs",
                  "P50 / P90 vs off", "chain CPU cores", "chain CPU µs/req", "chain CPU/req vs off",
                  "agent CPU cores", "agent CPU µs/req", "spans per transaction",
                  "lost (kernel) / pipeline / export drops", "sink received / spans made", "load1"], rows)
    out.append("")
    ons = [r for r in runs if r["mode"] == "on" and r["valid"] and r["requests"]]
    if ons:
        keys = sorted({k for r in ons for k in r.get("sink_by_kind", {})})
        out.append("Spans per transaction by who made them (the sink's count by process, span kind and protocol, "
                   "÷ requests; the agent's request logs by protocol below):")
        out.append("")
        krows = [[k, expected_hop(k)] + [fmt(r["sink_by_kind"].get(k, 0) / r["requests"], 2) for r in ons]
                 for k in keys]
        for hop in CHAIN_HOPS:
            if not any(expected_hop(k) == hop for k in keys):
                krows.append([f"(missing) {hop}", hop] + ["0.00"] * len(ons))
        for proto, want in (("http1", 4), ("redis", 2), ("postgresql", 2)):
            krows.append([f"agent request logs: {proto}", f"{want} (both sides)"]
                         + [fmt(r["request_logs_by_protocol"].get(proto, 0) / r["requests"], 2) for r in ons])
        out += table(["process kind protocol", "expected (chain hop: 1 per transaction)"]
                     + [f"at {r['rate']} req/s" for r in ons], krows)
        out.append("")
        out.append("Expected per transaction: h2load client + nginx server (http), nginx client + backend server "
                   "(http), backend client + redis server (redis), backend client + postgres server (postgresql): "
                   "8 spans.")
        out.append("")
    summary = []
    for r in ons:
        if r["p50_increase"] is None:
            continue
        summary.append([f"at {r['rate']} req/s, on vs {r['compared_with']}", fmt(r["spans_per_txn"], 2),
                        f"{r['p50_increase'] * 100:+.1f}% / {r['p90_increase'] * 100:+.1f}%",
                        f"{r['chain_cpu_increase'] * 100:+.1f}%", fmt(r["added_us_per_req"], 0)])
    out.append("Impact (no target in the issue; the reference published none for this scenario):")
    out.append("")
    out += table(["run", "spans per transaction", "P50 / P90 increase", "chain CPU per request increase",
                  "agent + chain CPU added, µs per request"], summary or [["INVALID: no valid on/off pair", "", "", "", ""]])
    out.append("")
    if e2e:
        out += table(["what", "target", "measured", ""], [report.e2e_target(e2e[0])])
        out.append("")
        out += report.e2e_section(e2e, runs)
    return out


def render(doc, generic, fmt, table):
    return {"packets": packets, "connections": connections, "throughput": throughput, "chain": chain}[
        doc["scenario"]](doc, generic, fmt, table)
