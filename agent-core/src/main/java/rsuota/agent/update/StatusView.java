package rsuota.agent.update;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import rsuota.hal.boot.BootControl;
import rsuota.hal.boot.BootControlException;
import rsuota.hal.boot.BootState;
import rsuota.hal.boot.Slot;

/**
 * The status a technician and the controller see, read without changing anything (safe while
 * another process installs).
 */
public final class StatusView {
    private StatusView() {}

    public static Map<String, Object> read(Path stateDir, BootControl boot, Instant now) throws IOException {
        EngineState s = new StateStore(stateDir).load(now);
        return of(s, Progress.read(stateDir), boot);
    }

    public static Map<String, Object> of(EngineState s, Progress p, BootControl boot) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("state", s.state().reported());
        String release = s.target() != null ? s.target().release() : s.order() != null ? s.order().release() : null;
        out.put("release", release);
        Map<String, Object> dl = new LinkedHashMap<>();
        boolean sameRelease = p != null && s.target() != null && p.release() != null && p.release().equals(s.target().release());
        dl.put("bytesFetched", sameRelease ? p.bytesFetched() : 0L);
        dl.put("bytesReused", sameRelease ? p.bytesReused() : 0L);
        dl.put("chunksReused", sameRelease ? p.chunksReused() : 0);
        dl.put("chunksVerified", s.state() == UpdateState.VERIFIED || s.state().ordinal() > UpdateState.VERIFIED.ordinal() && s.target() != null
                ? s.target().chunksTotal() : sameRelease ? p.chunksVerified() : 0);
        dl.put("chunksTotal", s.target() != null ? s.target().chunksTotal() : 0);
        dl.put("payloadBytes", s.target() != null ? s.target().payloadBytes() : 0L);
        out.put("download", dl);
        if (s.order() != null) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("source", s.order().source());
            o.put("downloadOnly", s.order().downloadOnly());
            o.put("rev", s.order().rev());
            out.put("order", o);
        }
        Map<String, Object> err = new LinkedHashMap<>();
        if (s.lastError() != null) {
            err.put("code", s.lastError().code());
            err.put("message", s.lastError().message());
            err.put("at", String.valueOf(s.lastError().at()));
        } else {
            err.put("code", null);
        }
        out.put("lastError", err);
        out.put("securityFloor", s.securityFloor());
        out.put("slots", slots(s, boot));
        return out;
    }

    public static List<Map<String, Object>> slots(EngineState s, BootControl boot) {
        List<Map<String, Object>> list = new ArrayList<>();
        Slot booted = null;
        BootState bs = null;
        try {
            bs = boot.state();
            booted = bs.booted();
        } catch (BootControlException e) {
            // reported per slot below as unknown boot state
        }
        for (Slot slot : Slot.values()) {
            EngineState.SlotRecord r = s.slot(slot.name());
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", slot.name());
            m.put("state", r.status());
            m.put("release", r.release());
            m.put("booted", slot == booted);
            if (bs != null) {
                m.put("bootTriesLeft", bs.triesLeft().getOrDefault(slot, 0));
                m.put("bootOrderPosition", bs.order().indexOf(slot));
            }
            list.add(m);
        }
        return list;
    }
}
