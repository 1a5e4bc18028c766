package rsuota.hal.gpio;

import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Shows the agent's status on one LED (activity) or two (activity + fault), so a technician at the
 * cabinet sees what the box is doing without a laptop.
 *
 * <p>Each status is a pattern of {@value #STEPS} steps of {@link #TICK} (a 2 s cycle):
 * <pre>
 * status           one LED        two LEDs: activity / fault
 * IDLE             steady on      steady on / off
 * DOWNLOADING      1 Hz blink     1 Hz blink / off
 * AWAITING_WINDOW  short blip/2 s short blip/2 s / off
 * TRIAL            2 Hz blink     2 Hz blink / off
 * FAILED           double flash   off / steady on
 * </pre>
 * The patterns advance only on {@link #tick()}: a caller drives them with
 * {@link #runOn(ScheduledExecutorService)}, a test calls {@code tick()} itself, so no test needs a
 * real clock. A pin that cannot be written is logged once per failure streak and the pattern goes
 * on: a broken LED must never stop an update.
 */
public final class StatusLed implements AutoCloseable {

    public enum Status { IDLE, DOWNLOADING, AWAITING_WINDOW, TRIAL, FAILED }

    /** Fast enough for a visible 2 Hz blink, slow enough that GPIO writes cost nothing. */
    public static final Duration TICK = Duration.ofMillis(250);
    public static final int STEPS = 8;

    /** Activity and fault levels per step ('1' = on). */
    record Pattern(String activity, String fault) {
        Pattern {
            if (activity.length() != STEPS || fault.length() != STEPS) throw new IllegalArgumentException("pattern needs " + STEPS + " steps");
        }
    }

    private static final Map<Status, Pattern> ONE_LED = Map.of(
            Status.IDLE, new Pattern("11111111", "00000000"),
            Status.DOWNLOADING, new Pattern("11001100", "00000000"),
            Status.AWAITING_WINDOW, new Pattern("10000000", "00000000"),
            Status.TRIAL, new Pattern("10101010", "00000000"),
            Status.FAILED, new Pattern("10100000", "00000000"));

    private static final Map<Status, Pattern> TWO_LEDS = Map.of(
            Status.IDLE, new Pattern("11111111", "00000000"),
            Status.DOWNLOADING, new Pattern("11001100", "00000000"),
            Status.AWAITING_WINDOW, new Pattern("10000000", "00000000"),
            Status.TRIAL, new Pattern("10101010", "00000000"),
            // With a fault LED, "failed" is unmistakable: the activity LED goes dark.
            Status.FAILED, new Pattern("00000000", "11111111"));

    private static final Logger log = LoggerFactory.getLogger(StatusLed.class);

    private final Gpio.Output activity;
    private final Gpio.Output fault;
    private Status status = Status.IDLE;
    private int step;
    private final Set<String> failingPins = new HashSet<>();

    /** One LED. */
    public StatusLed(Gpio.Output activity) {
        this(activity, null);
    }

    /** @param fault the second (fault) LED, or null for a single-LED box */
    public StatusLed(Gpio.Output activity, Gpio.Output fault) {
        if (activity == null) throw new IllegalArgumentException("status LED needs an activity output");
        this.activity = activity;
        this.fault = fault;
        apply();
    }

    /** Switches to a status; its pattern starts at its first step at once. */
    public synchronized void show(Status s) {
        if (s == null) throw new IllegalArgumentException("status must not be null");
        if (s == status) return; // keep the rhythm when the engine repeats its status
        status = s;
        step = 0;
        apply();
    }

    public synchronized Status status() {
        return status;
    }

    /** Advances the pattern by one step of {@link #TICK}. */
    public synchronized void tick() {
        step = (step + 1) % STEPS;
        apply();
    }

    /** Ticks every {@link #TICK} on {@code scheduler}; cancel the returned future to stop. */
    public ScheduledFuture<?> runOn(ScheduledExecutorService scheduler) {
        long ms = TICK.toMillis();
        return scheduler.scheduleAtFixedRate(this::tick, ms, ms, TimeUnit.MILLISECONDS);
    }

    /** Turns the LEDs off; the outputs stay open (their owner, the {@link Gpio}, closes them). */
    @Override
    public synchronized void close() {
        write(activity, false);
        if (fault != null) write(fault, false);
    }

    private void apply() {
        Pattern p = (fault == null ? ONE_LED : TWO_LEDS).get(status);
        write(activity, p.activity().charAt(step) == '1');
        if (fault != null) write(fault, p.fault().charAt(step) == '1');
    }

    private void write(Gpio.Output out, boolean high) {
        boolean wasFailing = failingPins.contains(out.id());
        if (out.isHigh() == high && !wasFailing) return; // no needless writes; after a failure, rewrite to recover
        try {
            out.set(high);
            if (wasFailing) {
                failingPins.remove(out.id());
                log.info("status LED: output '{}' works again", out.id());
            }
        } catch (GpioException e) {
            if (failingPins.add(out.id())) log.warn("status LED: {} (the LED shows a wrong pattern until the pin works again)", e.getMessage());
        }
    }
}
