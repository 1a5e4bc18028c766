package rsuota.agent.activation;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** A half-open span of time {@code [start, end)}: open at {@code start}, closed again at {@code end}. */
public record Interval(Instant start, Instant end) {

    public Interval {
        if (start == null || end == null) throw new IllegalArgumentException("interval bounds must not be null");
        if (!end.isAfter(start)) throw new IllegalArgumentException("interval end " + end + " is not after its start " + start);
    }

    public boolean contains(Instant t) {
        return !t.isBefore(start) && t.isBefore(end);
    }

    public Duration duration() {
        return Duration.between(start, end);
    }

    /** Sorted, with overlapping or touching intervals joined (two back-to-back windows are one opening). */
    static List<Interval> merge(List<Interval> in) {
        List<Interval> sorted = new ArrayList<>(in);
        sorted.sort(Comparator.comparing(Interval::start));
        List<Interval> out = new ArrayList<>();
        for (Interval i : sorted) {
            if (!out.isEmpty() && !i.start().isAfter(out.get(out.size() - 1).end())) {
                Interval last = out.remove(out.size() - 1);
                out.add(new Interval(last.start(), i.end().isAfter(last.end()) ? i.end() : last.end()));
            } else {
                out.add(i);
            }
        }
        return out;
    }

    /** The times in both lists; each list must be merged (sorted, disjoint). */
    static List<Interval> intersect(List<Interval> a, List<Interval> b) {
        List<Interval> out = new ArrayList<>();
        int i = 0;
        int j = 0;
        while (i < a.size() && j < b.size()) {
            Interval x = a.get(i);
            Interval y = b.get(j);
            Instant s = x.start().isAfter(y.start()) ? x.start() : y.start();
            Instant e = x.end().isBefore(y.end()) ? x.end() : y.end();
            if (e.isAfter(s)) out.add(new Interval(s, e));
            // Drop whichever ends first: it cannot overlap anything later in the other list.
            if (x.end().isBefore(y.end())) i++;
            else j++;
        }
        return out;
    }
}
