package rsuota.fleet.rollout;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import rsuota.fleet.policy.Verdict;

/**
 * Whether a phase may pass: its window has passed, every device is decided, the exit criteria
 * hold, and every rule is clear over its cohort. {@code unmet} says what is missing, in words.
 */
public record Gate(boolean met, List<String> unmet, Map<Bucket, Integer> buckets) {
    public Gate {
        unmet = List.copyOf(unmet);
        buckets = Map.copyOf(buckets);
    }

    public static Map<Bucket, Integer> count(List<DeviceProgress> devices, Instant now, Duration silentAfter) {
        Map<Bucket, Integer> n = new EnumMap<>(Bucket.class);
        for (Bucket b : Bucket.values()) n.put(b, 0);
        for (DeviceProgress d : devices) n.merge(Bucket.of(d, now, silentAfter), 1, Integer::sum);
        return n;
    }

    public static Gate of(Phase p, List<DeviceProgress> devices, Instant now, Duration silentAfter, Map<String, Verdict> verdicts) {
        Map<Bucket, Integer> n = count(devices, now, silentAfter);
        List<String> unmet = new ArrayList<>();
        if (p.windowEndsAt() == null || now.isBefore(p.windowEndsAt())) {
            unmet.add("observation window runs until " + p.windowEndsAt());
        }
        if (n.get(Bucket.QUEUED) > 0) unmet.add(n.get(Bucket.QUEUED) + " device(s) not dispatched yet");
        if (n.get(Bucket.IN_PROGRESS) > 0) unmet.add(n.get(Bucket.IN_PROGRESS) + " device(s) still in progress");
        // a unit a technician holds is out of the sample: judged neither success, failure nor silence
        int total = devices.size() - n.get(Bucket.LOCKED_BY_TECHNICIAN) - n.get(Bucket.LOCALLY_MANAGED);
        int ok = n.get(Bucket.SUCCEEDED);
        if (total > 0 && (double) ok / total < p.criteria().minSuccessRatio()) {
            unmet.add("success " + ok + "/" + total + " is below " + p.criteria().minSuccessRatio());
        }
        int failed = n.get(Bucket.FAILED) + n.get(Bucket.ROLLED_BACK) + n.get(Bucket.ROLLBACK_PENDING) + n.get(Bucket.NEEDS_INVESTIGATION);
        if (failed > p.criteria().maxFailed()) unmet.add(failed + " device(s) failed or rolled back (at most " + p.criteria().maxFailed() + ")");
        if (n.get(Bucket.SILENT) > p.criteria().maxSilent()) {
            unmet.add(n.get(Bucket.SILENT) + " device(s) silent (at most " + p.criteria().maxSilent() + ")");
        }
        verdicts.forEach((rule, v) -> {
            if (v instanceof Verdict.Breach) unmet.add("rule " + rule + " is breached");
            else if (v instanceof Verdict.Inconclusive i && total > 0) {
                unmet.add("rule " + rule + " is inconclusive (" + i.sample() + " of " + i.required() + " required devices reporting)");
            }
        });
        return new Gate(unmet.isEmpty(), unmet, n);
    }

    /** This gate with more unmet items (the exit criteria over the whole observation window). */
    public Gate with(List<String> more) {
        if (more.isEmpty()) return this;
        List<String> all = new ArrayList<>(unmet);
        all.addAll(more);
        return new Gate(false, all, buckets);
    }

    /**
     * Whether a human may pass this phase although its gate is not met: the window has passed and
     * what is missing is only evidence, never a bad sign. Allowed: rules inconclusive for lack of
     * reporting devices, devices silent beyond the limit (and the success ratio short only by
     * them). Refused: a breached rule, failed or rolled-back devices beyond the criteria, devices
     * still queued or in progress. Returns null when a human may approve, else why not.
     */
    public static String whyNotJudgeable(Phase p, Gate g, Instant now, Map<String, Verdict> verdicts) {
        if (p.windowEndsAt() == null || now.isBefore(p.windowEndsAt())) return "its observation window runs until " + p.windowEndsAt();
        Map<Bucket, Integer> n = g.buckets();
        List<String> bad = new ArrayList<>();
        verdicts.forEach((rule, v) -> {
            if (v instanceof Verdict.Breach) bad.add("rule " + rule + " is breached");
        });
        g.unmet().stream().filter(u -> u.contains("over the whole observation window")).forEach(bad::add);
        int total = n.entrySet().stream().filter(e -> !e.getKey().local()).mapToInt(Map.Entry::getValue).sum();
        int failed = n.get(Bucket.FAILED) + n.get(Bucket.ROLLED_BACK) + n.get(Bucket.ROLLBACK_PENDING) + n.get(Bucket.NEEDS_INVESTIGATION);
        if (failed > p.criteria().maxFailed()) bad.add(failed + " device(s) failed or rolled back (at most " + p.criteria().maxFailed() + ")");
        if (n.get(Bucket.QUEUED) + n.get(Bucket.IN_PROGRESS) > 0) bad.add((n.get(Bucket.QUEUED) + n.get(Bucket.IN_PROGRESS)) + " device(s) not decided yet");
        if (total > 0 && (double) (n.get(Bucket.SUCCEEDED) + n.get(Bucket.SILENT)) / total < p.criteria().minSuccessRatio()) {
            bad.add("success " + n.get(Bucket.SUCCEEDED) + "/" + total + " is short of " + p.criteria().minSuccessRatio() + " even counting silent devices");
        }
        if (!bad.isEmpty()) return String.join("; ", bad);
        boolean evidenceMissing = n.get(Bucket.SILENT) > p.criteria().maxSilent()
                || verdicts.values().stream().anyMatch(v -> v instanceof Verdict.Inconclusive);
        return evidenceMissing || !g.met() ? null : "its gate is met: the engine passes it by itself";
    }
}
