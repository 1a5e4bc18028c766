package rsuota.agent.download;

import java.time.Duration;

/** Waiting between retries, injectable so tests can record delays instead of spending them. */
public interface Sleeper {
    void sleep(Duration d) throws InterruptedException;

    Sleeper REAL = d -> Thread.sleep(d.toMillis());
}
