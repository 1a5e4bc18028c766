package rsuota.fleet.api;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import rsuota.fleet.domain.FleetException;

/**
 * The one pagination style of every list endpoint: {@code ?limit=} (1..{@link #MAX}, default
 * {@link #DEFAULT}) and {@code ?after=}, the key of the last item the caller has (the previous
 * answer's {@code next}). The answer carries the page under the list's name and {@code next} only
 * when more items follow, so "no next" reliably means "that was all". Filters and the cursor combine:
 * send the same filters with each page.
 *
 * @param after the cursor as sent (null: from the start)
 * @param limit items per page
 */
public record Paging(String after, int limit) {
    /** A page a terminal shows in one screenful of scrolling; tools ask for MAX. */
    public static final int DEFAULT = 100;
    /**
     * Largest page: 1000 devices or audit entries answer in well under a second on the 2-core controller
     * host and stay below a few MiB of JSON; a bigger fleet is walked page by page.
     */
    public static final int MAX = 1000;

    /** Parses a key from the text of ?after=; a bad one is INVALID_REQUEST naming "after". */
    @FunctionalInterface
    public interface KeyParser<K> {
        K parse(String after) throws FleetException;
    }

    public static Paging of(Call c) throws FleetException {
        int limit = (int) c.queryLong("limit", DEFAULT, 1, MAX);
        String after = c.query("after");
        return new Paging(after == null || after.isEmpty() ? null : after, limit);
    }

    public static Long numericKey(String after) throws FleetException {
        try {
            long n = Long.parseLong(after);
            if (n < 0) throw FleetException.invalid("after", n + " is below 0 (pass the previous answer's next)");
            return n;
        } catch (NumberFormatException e) {
            throw FleetException.invalid("after", "'" + after + "' is not a number (pass the previous answer's next)");
        }
    }

    public static String textKey(String after) {
        return after;
    }

    /** The cursor as a number (0 when absent), for lists whose key is a sequence number. */
    public long afterNumber() throws FleetException {
        return after == null ? 0 : numericKey(after);
    }

    /**
     * A page of a list the store hands over whole, in its order (incidents and rollouts: tens or hundreds,
     * not thousands). The cursor is found by its key; a key not in the (filtered) list is INVALID_REQUEST.
     */
    public <T, K> Map<String, Object> page(String name, List<T> all, Function<T, K> key, KeyParser<K> parser, Function<T, Object> view)
            throws FleetException {
        int start = 0;
        if (after != null) {
            K k = parser.parse(after);
            int i = 0;
            while (i < all.size() && !key.apply(all.get(i)).equals(k)) i++;
            if (i == all.size()) {
                throw FleetException.invalid("after", "no " + name + " item '" + after + "' in this list with these filters "
                        + "(pass the previous answer's next, with the same filters)");
            }
            start = i + 1;
        }
        int end = Math.min(all.size(), start + limit);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put(name, all.subList(start, end).stream().map(view).toList());
        if (end < all.size()) out.put("next", key.apply(all.get(end - 1)));
        return out;
    }

    /**
     * The answer for a list the store pages itself: {@code fetched} holds up to limit + 1 items after the
     * cursor; the extra one is not shown, it only says that more follow.
     */
    public <T> Map<String, Object> answer(String name, List<T> fetched, Function<T, Object> key, Function<T, Object> view) {
        List<T> shown = fetched.size() > limit ? fetched.subList(0, limit) : fetched;
        Map<String, Object> out = new LinkedHashMap<>();
        out.put(name, shown.stream().map(view).toList());
        if (fetched.size() > limit) out.put("next", key.apply(shown.get(shown.size() - 1)));
        return out;
    }
}
