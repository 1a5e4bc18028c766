package rsuota.agent.download;

import rsuota.agent.AgentException;
import java.util.random.RandomGenerator;

/**
 * Runs one fetch under the {@link RetryPolicy}: transient failures are retried with backoff until
 * the consecutive-failure cap, fatal ones end the download at once with their code.
 */
final class Retrying {
    interface Attempt {
        BundleSource.Fetched run() throws FetchException, InterruptedException;
    }

    private final RetryPolicy retry;
    private final Sleeper sleeper;
    private final RandomGenerator random;

    Retrying(RetryPolicy retry, Sleeper sleeper, RandomGenerator random) {
        this.retry = retry;
        this.sleeper = sleeper;
        this.random = random;
    }

    /** Runs {@code a}, retrying transient failures with backoff until the consecutive-failure cap. */
    BundleSource.Fetched run(Attempt a, String what) throws AgentException, InterruptedException {
        int failures = 0;
        while (true) {
            try {
                return a.run();
            } catch (FetchException e) {
                if (!e.isTransient()) throw e.withContext(what + ": ");
                failures++;
                if (failures >= retry.maxConsecutiveFailures()) {
                    throw e.withContext(what + ": giving up after " + failures + " consecutive failures; last: ");
                }
                sleeper.sleep(retry.delay(failures, e.retryAfter(), random));
            }
        }
    }
}
