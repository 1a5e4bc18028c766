package rsuota.hal.gpio;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * GPIO in memory, for the lab's simulated devices and for tests above the HAL: the lab (or a test)
 * flips an input with {@link #setInput(int, boolean)} and reads back what the agent wrote with
 * {@link #outputLevel(int)}. Inputs start low unless set before they are opened.
 * A failing pin can be simulated with {@link #failInput(int, String)}.
 */
public final class SimulatedGpio implements Gpio {

    private final Map<Integer, Boolean> levels = new ConcurrentHashMap<>();
    private final Map<Integer, String> failures = new ConcurrentHashMap<>();
    private final Map<Integer, List<Consumer<Boolean>>> listeners = new ConcurrentHashMap<>();
    private final Map<Integer, Boolean> outputs = new ConcurrentHashMap<>();

    /** Sets an input's level and, if it changed, tells its listeners on this thread. */
    public void setInput(int address, boolean high) {
        failures.remove(address);
        Boolean before = levels.put(address, high);
        if (before == null || before != high) {
            for (Consumer<Boolean> l : listeners.getOrDefault(address, List.of())) l.accept(high);
        }
    }

    /** Makes reads of an input fail with {@code reason} until {@link #setInput} is called for it again. */
    public void failInput(int address, String reason) {
        failures.put(address, reason);
    }

    /** The level the agent last wrote to an output, or null if it never opened it. */
    public Boolean outputLevel(int address) {
        return outputs.get(address);
    }

    @Override
    public Input input(InputPin pin) {
        listeners.putIfAbsent(pin.address(), new CopyOnWriteArrayList<>());
        levels.putIfAbsent(pin.address(), false);
        return new Input() {
            @Override
            public String id() {
                return pin.id();
            }

            @Override
            public boolean isHigh() throws GpioException {
                String failure = failures.get(pin.address());
                if (failure != null) {
                    throw new GpioException("simulated gpio: cannot read input '" + pin.id() + "' (pin " + pin.address() + "): " + failure);
                }
                return levels.getOrDefault(pin.address(), false);
            }

            @Override
            public Subscription onChange(Consumer<Boolean> listener) {
                List<Consumer<Boolean>> ls = listeners.get(pin.address());
                ls.add(listener);
                return () -> ls.remove(listener);
            }
        };
    }

    @Override
    public Output output(OutputPin pin) {
        outputs.put(pin.address(), pin.initialHigh());
        return new Output() {
            @Override
            public String id() {
                return pin.id();
            }

            @Override
            public void set(boolean high) {
                outputs.put(pin.address(), high);
            }

            @Override
            public boolean isHigh() {
                return outputs.getOrDefault(pin.address(), false);
            }
        };
    }

    @Override
    public void close() {
        listeners.clear();
    }
}
