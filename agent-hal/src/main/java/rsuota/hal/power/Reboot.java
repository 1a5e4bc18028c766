package rsuota.hal.power;

import java.io.IOException;

/** Restarts the box. On a real box the call may not return; in the simulation it returns. */
public interface Reboot {
    void reboot(String reason) throws IOException;
}
