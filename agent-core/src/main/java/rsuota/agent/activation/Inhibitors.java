package rsuota.agent.activation;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import rsuota.hal.gpio.Gpio;

/**
 * All sources that can hold activation. The engine activates only when {@link #activeReasons()}
 * is empty, and shows the reasons in its status ({@code waitingFor}) while it is not.
 * Each call reads the sources afresh (a GPIO level, a small file): cheap, and never stale.
 */
public final class Inhibitors {

    private final List<Inhibitor> sources;

    public Inhibitors(List<Inhibitor> sources) {
        this.sources = List.copyOf(sources);
    }

    public static Inhibitors none() {
        return new Inhibitors(List.of());
    }

    public List<Inhibitor> sources() {
        return sources;
    }

    /** Why activation must wait, one entry per holding source, in source order; empty = go. */
    public List<String> activeReasons() {
        List<String> out = new ArrayList<>();
        for (Inhibitor i : sources) {
            Optional<String> r = i.holdReason();
            r.ifPresent(out::add);
        }
        return out;
    }

    public boolean holding() {
        return !activeReasons().isEmpty();
    }

    /**
     * Calls {@code r} when a GPIO source changes level, so the engine re-checks at once instead of at
     * its next tick. The lock file and the power state are read on each check; they have no events.
     * Close the returned subscription to stop.
     */
    public Gpio.Subscription onChange(Runnable r) {
        List<Gpio.Subscription> subs = new ArrayList<>();
        for (Inhibitor i : sources) {
            if (i instanceof GpioInhibitor g) subs.add(g.onChange(r));
        }
        return () -> subs.forEach(Gpio.Subscription::close);
    }
}
