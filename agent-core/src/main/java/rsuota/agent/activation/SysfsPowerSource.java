package rsuota.agent.activation;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads a Linux power-supply "online" attribute, e.g. {@code /sys/class/power_supply/AC/online}:
 * "1" = mains present, "0" = on battery. Any file with that content works, which is how the lab and
 * tests simulate a power cut.
 */
public record SysfsPowerSource(Path onlineFile) implements PowerSource {

    public static final Path DEFAULT = Path.of("/sys/class/power_supply/AC/online");

    @Override
    public boolean onBattery() throws IOException {
        String v;
        try {
            v = new String(Files.readAllBytes(onlineFile), StandardCharsets.US_ASCII).strip();
        } catch (IOException e) {
            throw new IOException("cannot read the power state from " + onlineFile + ": " + e.getMessage()
                    + " (check the power supply name under /sys/class/power_supply)", e);
        }
        return switch (v) {
            case "1" -> false;
            case "0" -> true;
            default -> throw new IOException(onlineFile + " contains '" + v + "', expected 1 (mains) or 0 (battery)");
        };
    }

    @Override
    public String describe() {
        return onlineFile.toString();
    }
}
