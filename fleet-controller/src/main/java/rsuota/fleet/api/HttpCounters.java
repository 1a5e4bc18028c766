package rsuota.fleet.api;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/** Requests answered, by status code: the API's own health in /metrics. */
public final class HttpCounters {
    private final Map<Integer, LongAdder> byStatus = new ConcurrentHashMap<>();

    void count(int status) {
        byStatus.computeIfAbsent(status, s -> new LongAdder()).increment();
    }

    public Map<Integer, Long> snapshot() {
        Map<Integer, Long> out = new TreeMap<>();
        byStatus.forEach((k, v) -> out.put(k, v.sum()));
        return out;
    }
}
