package rsuota.agent.link;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import rsuota.agent.AgentError;
import rsuota.agent.AgentException;

/**
 * Keeps one connection up, on its own thread: connect, wait until it is lost, back off with
 * jitter, connect again, until {@link #stop}. It replaces Paho's automatic reconnect, which never
 * retries a failed first connect, and it does the resubscription on this thread (inside
 * {@link Target#connect()}), never inside a Paho callback, where subscribing can deadlock.
 *
 * <p>Fatal failures (TLS, authorization) are retried too, at the backoff cap: a box that booted
 * without a clock sees "certificate not yet valid" until NTP syncs, and a fixed ACL or renewed
 * certificate must be picked up without a visit.
 */
final class ConnectionSupervisor {

    /** What the supervisor drives. */
    interface Target {
        /** One attempt: connect, resubscribe, announce presence. Returns a connected session. */
        LinkSession connect() throws AgentException;

        /** The session ended (lost, or the supervisor stops): release it and tell whoever listens. */
        void ended(LinkSession session, AgentException cause, boolean stopping);
    }

    private static final Logger LOG = LoggerFactory.getLogger(ConnectionSupervisor.class);
    /** After this many identical failures in a row, only every 10th is logged: a week offline is 5000 attempts. */
    private static final int QUIET_AFTER = 3;

    private final String name;
    private final Backoff backoff;
    private final RandomGenerator random;
    private final Target target;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private volatile boolean stopping;
    private Thread thread;

    ConnectionSupervisor(String name, Backoff backoff, RandomGenerator random, Target target) {
        this.name = name;
        this.backoff = backoff;
        this.random = random;
        this.target = target;
    }

    synchronized void start() {
        if (thread != null) return;
        thread = new Thread(this::run, "mqtt-supervisor-" + name);
        thread.setDaemon(true);
        thread.start();
    }

    /** Ends the loop; the current session (if any) is handed to {@link Target#ended} with stopping=true. */
    void stop(Duration join) {
        stopping = true;
        signal();
        Thread t;
        synchronized (this) {
            t = thread;
        }
        if (t == null || t == Thread.currentThread()) return;
        try {
            t.join(join.toMillis());
            if (t.isAlive()) {
                t.interrupt();
                t.join(join.toMillis());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Wakes the loop: a session was lost, or stop was requested. Never blocks for long. */
    void signal() {
        lock.lock();
        try {
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private void run() {
        int attempt = 0;
        AgentError lastCode = null;
        int sameCodeRun = 0;
        while (!stopping) {
            LinkSession session;
            try {
                session = connectOnce();
            } catch (AgentException e) {
                sameCodeRun = e.code() == lastCode ? sameCodeRun + 1 : 1;
                lastCode = e.code();
                Duration delay = backoff.delay(attempt++, random);
                if (sameCodeRun <= QUIET_AFTER || sameCodeRun % 10 == 0) {
                    String msg = "mqtt {}: connect failed ({} attempt {} in a row, {}), retrying in {} ms: {}";
                    Object[] args = {name, e.code(), sameCodeRun, e.isTransient() ? "transient" : "fatal", delay.toMillis(), e.getMessage()};
                    if (e.isTransient()) LOG.warn(msg, args);
                    else LOG.error(msg, args);
                }
                pause(delay);
                continue;
            }
            if (lastCode != null) LOG.info("mqtt {}: connected after {} failed attempts", name, sameCodeRun);
            lastCode = null;
            sameCodeRun = 0;
            long upSince = System.nanoTime();
            AgentException cause = awaitLoss(session);
            target.ended(session, cause, stopping);
            if (stopping) break;
            LOG.warn("mqtt {}: connection lost ({}), reconnecting", name, cause.getMessage());
            // A connection that stayed up for a full backoff cap was healthy: start the curve again.
            // One that flaps (e.g. session taken over) keeps climbing, so it cannot hammer the broker.
            if (System.nanoTime() - upSince >= backoff.max().toNanos()) attempt = 0;
            pause(backoff.delay(attempt++, random));
        }
    }

    /**
     * One attempt. An unchecked exception from the client library (a bug, not a network
     * condition) would end this thread and with it every future reconnect, so it is turned into
     * CLIENT_ERROR and retried like any failure, with its stack logged once per occurrence.
     */
    private LinkSession connectOnce() throws AgentException {
        try {
            return target.connect();
        } catch (RuntimeException e) {
            LOG.error("mqtt {}: CLIENT_ERROR: the MQTT client threw during connect", name, e);
            throw new AgentException(AgentError.CLIENT_ERROR, "client library failure: " + e, e);
        }
    }

    private AgentException awaitLoss(LinkSession session) {
        lock.lock();
        try {
            // Bounded waits: a missed signal costs at most a second, never a hang.
            while (!stopping && !session.isLost()) {
                changed.await(1, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stopping = true;
        } finally {
            lock.unlock();
        }
        AgentException cause = session.lostCause();
        return cause != null ? cause : new AgentException(AgentError.STOPPED, "link stopped");
    }

    private void pause(Duration delay) {
        long deadline = System.nanoTime() + delay.toNanos();
        lock.lock();
        try {
            long left;
            while (!stopping && (left = deadline - System.nanoTime()) > 0) {
                changed.awaitNanos(left);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stopping = true;
        } finally {
            lock.unlock();
        }
    }
}
