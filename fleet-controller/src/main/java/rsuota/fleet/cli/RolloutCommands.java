package rsuota.fleet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(name = "rollout", mixinStandardHelpOptions = true, description = "Staged rollouts: create, start, watch, pause, resume, advance, roll back.")
final class RolloutCommands {
    @ParentCommand
    Fleetctl root;

    @Command(name = "create", mixinStandardHelpOptions = true, description = "Create a rollout. Without --phase, the default plan over the release's cohorts "
            + "(canary 48h manual -> pilot 7d manual -> waves 1d auto; --scale compresses it).")
    int create(@Option(names = "--release", paramLabel = "VERSION", required = true) String release,
               @Option(names = "--phase", paramLabel = "PHASE", description = "COHORT[:OBSERVATION[:auto|manual]] in order, e.g. canary:48h:manual (repeatable)") List<String> phases,
               @Option(names = "--min-success", paramLabel = "FRACTION", description = "exit criterion for every listed phase (0..1, default 1)") Double minSuccess,
               @Option(names = "--max-failed", paramLabel = "FRACTION", description = "exit criterion for every listed phase (default 0)") Integer maxFailed,
               @Option(names = "--max-silent", paramLabel = "FRACTION", description = "exit criterion for every listed phase (default 0)") Integer maxSilent,
               @Option(names = "--corridor-cap", paramLabel = "N", description = "most units of one corridor in trial at once") Integer corridorCap,
               @Option(names = "--silent-after", paramLabel = "DURATION", description = "a device unheard of this long counts as silent (default 20m)") String silentAfter,
               @Option(names = "--rollback-deadline", paramLabel = "DURATION", description = "time a device has to confirm a rollback (default 30m)") String rollbackDeadline,
               @Option(names = "--window", paramLabel = "WINDOW", description = "maintenance window sent to devices, e.g. 'Mon-Fri 01:00-04:00 Europe/Berlin'") String window,
               @Option(names = "--bandwidth-cap", paramLabel = "RATE", description = "download cap sent to devices, replacing their own, e.g. 2Mbit/s or 256KiB/s") String bandwidthCap,
               @Option(names = "--rules", paramLabel = "FILE", description = "JSON file with pause rules {version, window, rules:[{rule, threshold, sustained, minDevices}]}") Path rules,
               @Option(names = "--scale", paramLabel = "FACTOR", description = "multiply default plan durations (the lab compresses time), (0,1]") Double scale,
               @Option(names = "--reason", paramLabel = "TEXT") String reason,
               @Mixin Fleetctl.JsonFlag json) throws CliFailure {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("release", release);
        if (phases != null) {
            List<Map<String, Object>> list = new ArrayList<>();
            for (String p : phases) {
                String[] f = p.split(":", 3);
                Map<String, Object> m = new LinkedHashMap<>();
                if (f[0].matches("\\d+")) m.put("cohortId", Long.parseLong(f[0]));
                else m.put("cohort", f[0]);
                if (f.length > 1 && !f[1].isEmpty()) m.put("observation", f[1]);
                if (f.length > 2) m.put("approval", f[2]);
                if (minSuccess != null || maxFailed != null || maxSilent != null) {
                    Map<String, Object> c = new LinkedHashMap<>();
                    if (minSuccess != null) c.put("minSuccessRatio", minSuccess);
                    if (maxFailed != null) c.put("maxFailed", maxFailed);
                    if (maxSilent != null) c.put("maxSilent", maxSilent);
                    m.put("criteria", c);
                }
                list.add(m);
            }
            body.put("phases", list);
        }
        Map<String, Object> settings = new LinkedHashMap<>();
        if (corridorCap != null) settings.put("corridorCap", corridorCap);
        if (silentAfter != null) settings.put("silentAfter", silentAfter);
        if (rollbackDeadline != null) settings.put("rollbackDeadline", rollbackDeadline);
        if (window != null) settings.put("window", window);
        if (bandwidthCap != null) settings.put("bandwidthCap", bandwidthCap);
        if (!settings.isEmpty()) body.put("settings", settings);
        if (rules != null) {
            try {
                body.put("rules", ApiClient.JSON.readTree(Files.readString(rules)));
            } catch (IOException e) {
                throw new CliFailure(ExitCodes.LOCAL_IO, "cannot read " + rules + ": " + e.getMessage());
            }
        }
        if (scale != null) body.put("scale", scale);
        if (reason != null) body.put("reason", reason);
        return show(root.client().postJson("api/v1/rollouts", body).json(), json);
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List rollouts.")
    int list(@Option(names = "--release", paramLabel = "VERSION") String release, @Mixin Fleetctl.JsonFlag json) throws CliFailure {
        JsonNode n = root.client().getAll(new Fleetctl.Query("api/v1/rollouts").add("release", release).toString(), "rollouts");
        if (json.on) {
            root.printJson(n);
            return ExitCodes.OK;
        }
        Table t = new Table("ID", "RELEASE", "STATE", "PHASE", "CREATED", "BY");
        for (JsonNode r : n.get("rollouts")) {
            t.row(Fleetctl.text(r, "id"), Fleetctl.text(r, "release"), Fleetctl.text(r, "state"), Fleetctl.text(r, "phaseIndex"),
                    Fleetctl.text(r, "createdAt"), Fleetctl.text(r, "createdBy"));
        }
        t.print(root.out());
        return ExitCodes.OK;
    }

    @Command(name = "start", mixinStandardHelpOptions = true, description = "Start a created rollout (refused while a Sev1 is open on the release).")
    int start(@Parameters(paramLabel = "ID") long id, @Option(names = "--reason", paramLabel = "TEXT") String reason, @Mixin Fleetctl.JsonFlag json) throws CliFailure {
        return show(root.client().postJson("api/v1/rollouts/" + id + "/start", reason(reason)).json(), json);
    }

    @Command(name = "show", mixinStandardHelpOptions = true, aliases = "status", description = "What it waits for and the commands that resolve it; phases, device buckets,"
            + " KPIs against thresholds, pauses, alerts.")
    int status(@Parameters(paramLabel = "ID") long id, @Mixin Fleetctl.JsonFlag json) throws CliFailure {
        return show(root.client().get("api/v1/rollouts/" + id).json(), json);
    }

    @Command(name = "watch", mixinStandardHelpOptions = true, description = "Live view, refreshed every --interval seconds until the rollout ends (or --once / --count).")
    int watch(@Parameters(paramLabel = "ID") long id,
              @Option(names = "--interval", paramLabel = "SECONDS", defaultValue = "5", description = "seconds between refreshes (default ${DEFAULT-VALUE})") int interval,
              @Option(names = "--once", description = "one frame, then exit") boolean once,
              @Option(names = "--count", paramLabel = "N", description = "at most this many frames") Integer count,
              @Mixin Fleetctl.JsonFlag json) throws CliFailure {
        int frames = 0;
        while (true) {
            JsonNode n = root.client().get("api/v1/rollouts/" + id).json();
            frames++;
            if (json.on) {
                root.out().println(n.toString());
            } else {
                // Clear the screen between frames, like watch(1); a single frame prints plainly.
                if (!once && frames > 1) root.out().print("\033[H\033[2J");
                render(n);
            }
            root.out().flush();
            String state = n.path("state").asText();
            if (once || (count != null && frames >= count) || state.equals("completed") || state.equals("rolled_back")) return ExitCodes.OK;
            try {
                Thread.sleep(Math.max(1, interval) * 1000L);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return ExitCodes.OK;
            }
        }
    }

    @Command(name = "pause", mixinStandardHelpOptions = true, description = "Pause at once: no new activations, no phase advance.")
    int pause(@Parameters(paramLabel = "ID") long id, @Option(names = "--reason", paramLabel = "TEXT", required = true) String reason,
              @Mixin Fleetctl.JsonFlag json) throws CliFailure {
        return show(root.client().postJson("api/v1/rollouts/" + id + "/pause", reason(reason)).json(), json);
    }

    @Command(name = "resume", mixinStandardHelpOptions = true, description = "Resume a paused rollout; acknowledge every open pause event by id (see status).")
    int resume(@Parameters(paramLabel = "ID") long id, @Option(names = "--reason", paramLabel = "TEXT", required = true) String reason,
               @Option(names = "--acknowledge", paramLabel = "EVENT-ID", description = "pause event id whose findings you read (repeatable)") List<Long> ack,
               @Mixin Fleetctl.JsonFlag json) throws CliFailure {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("reason", reason);
        body.put("acknowledge", ack == null ? List.of() : ack);
        return show(root.client().postJson("api/v1/rollouts/" + id + "/resume", body).json(), json);
    }

    @Command(name = "extend", mixinStandardHelpOptions = true, description = "Extend the current phase's observation window (from its end, or from now if it ended).")
    int extend(@Parameters(paramLabel = "ID") long id, @Option(names = "--by", paramLabel = "DURATION", required = true, description = "e.g. 24h, 3d") String by,
               @Option(names = "--reason", paramLabel = "TEXT", required = true) String reason, @Mixin Fleetctl.JsonFlag json) throws CliFailure {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("by", by);
        body.put("reason", reason);
        return show(root.client().postJson("api/v1/rollouts/" + id + "/extend", body).json(), json);
    }

    @Command(name = "advance", mixinStandardHelpOptions = true, description = "Approve a phase that met its gate and waits for a human, or judge one held for a human"
            + " (inconclusive rules, silent devices after its window; --reason required, the audit log records the values judged).")
    int advance(@Parameters(paramLabel = "ID") long id, @Option(names = "--reason", paramLabel = "TEXT") String reason, @Mixin Fleetctl.JsonFlag json) throws CliFailure {
        return show(root.client().postJson("api/v1/rollouts/" + id + "/advance", reason(reason)).json(), json);
    }

    @Command(name = "rollback", mixinStandardHelpOptions = true, description = "Roll back the whole rollout (default), one --phase, one --cohort or one --device to the previous stable release.")
    int rollback(@Parameters(paramLabel = "ID") long id, @Option(names = "--reason", paramLabel = "TEXT", required = true) String reason,
                 @Option(names = "--phase", paramLabel = "N") Integer phase, @Option(names = "--cohort", paramLabel = "COHORT-ID") Long cohort, @Option(names = "--device", paramLabel = "DEVICE") String device,
                 @Mixin Fleetctl.JsonFlag json) throws CliFailure {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("scope", device != null ? "device" : phase != null ? "phase" : cohort != null ? "cohort" : "rollout");
        if (phase != null) body.put("phase", phase);
        if (cohort != null) body.put("cohort", cohort);
        if (device != null) body.put("device", device);
        body.put("reason", reason);
        return show(root.client().postJson("api/v1/rollouts/" + id + "/rollback", body).json(), json);
    }

    @Command(name = "clear", mixinStandardHelpOptions = true, description = "Clear a unit's needs_investigation flag after looking at it (audited; the unit must be flagged).")
    int clear(@Parameters(paramLabel = "ID") long id, @Parameters(paramLabel = "DEVICE") String device,
              @Option(names = "--reason", paramLabel = "TEXT", required = true, description = "what was found, for the audit log") String reason,
              @Mixin Fleetctl.JsonFlag json) throws CliFailure {
        return show(root.client().postJson("api/v1/rollouts/" + id + "/devices/" + Fleetctl.segment(device) + "/clear", reason(reason)).json(), json);
    }

    private static Map<String, Object> reason(String reason) {
        Map<String, Object> m = new LinkedHashMap<>();
        if (reason != null) m.put("reason", reason);
        return m;
    }

    private int show(JsonNode n, Fleetctl.JsonFlag json) {
        if (json.on) root.printJson(n);
        else render(n);
        return ExitCodes.OK;
    }

    /**
     * A phase's bytes: what the manifests predict for its units, per release they come from (units without a known
     * delta counted at the whole payload, and why), then what the units that finished their download fetched.
     */
    private void bytesLines(JsonNode by) {
        var out = root.out();
        int units = by.path("units").asInt();
        if (units > 0) {
            List<String> parts = new ArrayList<>();
            for (JsonNode s : by.path("sources")) {
                String from = s.hasNonNull("from") ? "from " + s.get("from").asText() : "with no release reported";
                String why = switch (s.path("withoutDelta").asText("")) {
                    case "" -> "";
                    case "no_release" -> " (whole payload)";
                    case "unknown_release" -> " (whole payload: no such release here)";
                    case "format_1" -> " (whole payload: a format 1 release)";
                    default -> " (whole payload: " + s.get("withoutDelta").asText() + ")";
                };
                parts.add(s.path("units").asInt() + " " + from + " x " + s.path("bytesPerUnit").asLong() + why);
            }
            int whole = by.path("unitsWithoutDelta").asInt();
            out.println("  bytes expected: " + by.path("expected").asLong() + " for " + units + " units (" + String.join("; ", parts) + ")"
                    + (whole > 0 ? ", " + whole + " without a delta" : ""));
        }
        if (by.path("devices").asInt() > 0) {
            long fetched = by.path("fetched").asLong();
            long whole = by.path("payloadBytes").asLong() * by.path("devices").asLong();
            out.println("  bytes fetched: " + fetched + " by " + by.path("devices").asInt() + " of " + units + " units, reused "
                    + by.path("reused").asLong() + " from active slots"
                    + (whole > 0 ? String.format(java.util.Locale.ROOT, ", %.1f%% of the full payload", 100.0 * fetched / whole) : ""));
        }
    }

    /** The status as a terminal page: header, attention, one block per phase with buckets and KPIs, open pauses. */
    void render(JsonNode n) {
        var out = root.out();
        out.println("rollout " + n.path("id").asText() + "  release " + n.path("release").asText() + " (back to "
                + Fleetctl.text(n, "previousStable") + ")  " + n.path("state").asText().toUpperCase(java.util.Locale.ROOT)
                + "  phase " + n.path("phaseIndex").asText() + "  as of " + n.path("asOf").asText() + "  etag " + n.path("etag").asText());
        JsonNode hold = n.path("hold");
        if (hold.isObject() && !hold.path("kind").asText().equals("done")) {
            out.println("WAITING (" + hold.path("kind").asText() + "):");
            for (JsonNode w : hold.path("waitingFor")) out.println("  - " + w.asText());
            if (hold.path("resolve").size() > 0) out.println("  resolve with:");
            for (JsonNode c : hold.path("resolve")) out.println("    " + c.asText());
        }
        for (JsonNode a : n.path("attention")) out.println("  ! " + a.asText());
        for (JsonNode p : n.path("phases")) {
            JsonNode b = p.path("buckets");
            out.println();
            out.println("phase " + p.path("index").asText() + " " + p.path("name").asText() + " [" + p.path("state").asText() + "] cohort "
                    + p.path("cohort").asText() + ", observe " + p.path("observation").asText() + ", " + p.path("approval").asText()
                    + (p.hasNonNull("windowEndsAt") ? ", window ends " + p.path("windowEndsAt").asText() : ""));
            out.println("  devices: succeeded " + b.path("succeeded").asInt() + "  in progress " + b.path("in_progress").asInt() + "  queued "
                    + b.path("queued").asInt() + "  failed " + b.path("failed").asInt() + "  rollback pending " + b.path("rollback_pending").asInt()
                    + "  rolled back " + b.path("rolled_back").asInt() + "  needs investigation " + b.path("needs_investigation").asInt()
                    + "  silent " + b.path("silent").asInt()
                    + (b.path("locked_by_technician").asInt() + b.path("locally_managed").asInt() > 0 ? "  locked by technician "
                    + b.path("locked_by_technician").asInt() + "  locally managed " + b.path("locally_managed").asInt() : ""));
            bytesLines(p.path("bytes"));
            if (p.path("state").asText().equals("pending")) continue;
            Table t = new Table("  RULE", "VERDICT", "OBSERVED", "THRESHOLD", "SAMPLE", "SUSTAIN", "BREACH-SINCE");
            for (JsonNode k : p.path("kpis")) {
                t.row("  " + k.path("rule").asText(), k.path("verdict").asText(), k.hasNonNull("observed") ? fmt(k.get("observed").asDouble()) : "-",
                        k.path("comparison").asText() + " " + fmt(k.path("threshold").asDouble()) + " " + k.path("unit").asText(),
                        k.path("sample").asText() + "/" + k.path("required").asText(), k.path("sustained").asText(), Fleetctl.text(k, "breachSince"));
            }
            t.print(out);
            for (JsonNode u : p.path("unmet")) out.println("  gate: " + u.asText());
            for (JsonNode d : p.path("devices")) {
                if (d.path("bucket").asText().equals("succeeded") && !d.hasNonNull("rollback")) continue;
                out.println("  " + d.path("device").asText() + ": " + d.path("bucket").asText() + " (" + Fleetctl.text(d, "state")
                        + (d.hasNonNull("reason") ? " " + d.get("reason").asText() : "") + ")"
                        + (d.hasNonNull("rollbackResult") ? " rollback " + d.get("rollbackResult").asText() : d.hasNonNull("rollback") ? " rollback " + d.get("rollback").asText() : "")
                        + (d.path("overdue").asBoolean() ? " OVERDUE" : "")
                        + (d.hasNonNull("localBy") ? " by " + d.get("localBy").asText() + " since " + Fleetctl.text(d, "localSince")
                        + (d.hasNonNull("localReason") ? ": " + d.get("localReason").asText() : "") : ""));
            }
        }
        for (JsonNode e : n.path("pauses")) {
            if (e.hasNonNull("resumedAt")) continue;
            out.println();
            out.println("PAUSED (event " + e.path("id").asText() + ") at " + e.path("at").asText() + " by " + e.path("actor").asText() + ": "
                    + e.path("reason").asText());
            for (JsonNode f : e.path("findings")) {
                out.println("  " + f.path("rule").asText() + (f.hasNonNull("cohort") ? " on " + f.get("cohort").asText() : "") + ": observed "
                        + fmt(f.path("observed").asDouble()) + " " + f.path("comparison").asText() + " " + fmt(f.path("threshold").asDouble()) + " "
                        + f.path("unit").asText() + ", sample " + f.path("sample").asText() + ", since " + f.path("breachSince").asText()
                        + ", offending " + Fleetctl.text(f, "offending"));
            }
            e.path("links").fields().forEachRemaining(l -> out.println("  " + l.getKey() + ": " + l.getValue().asText()));
            out.println("  resume: fleetctl rollout resume " + n.path("id").asText() + " --acknowledge " + e.path("id").asText() + " --reason ...");
        }
        for (JsonNode a : n.path("alerts")) {
            out.println("ALERT " + a.path("kind").asText() + " device " + Fleetctl.text(a, "deviceId") + " at " + a.path("at").asText()
                    + " (webhook " + Fleetctl.text(a, "delivery") + ")");
        }
        for (JsonNode b : n.path("blocked")) {
            out.println("blocked by the variant matrix: " + b.path("device").asText() + " (" + b.path("variant").asText() + ") in " + b.path("cohort").asText());
        }
    }

    private static String fmt(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e12 ? Long.toString((long) v) : String.format(java.util.Locale.ROOT, "%.4f", v);
    }
}
