package rsuota.json;

import com.fasterxml.jackson.annotation.JsonFormat;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * JSON of the agent's records on jackson-core's streaming parser and generator alone: the wire messages, the
 * manifest and the agent's state files. jackson-databind costs a unit ~9 MiB of RSS on every command that touches
 * an ObjectMapper (its ~700 classes; docs/benchmarks.md "Install peak RSS"); these few shapes need none of it.
 * The controller, which has the memory, keeps databind for its own JSON and reads the same records.
 *
 * <p>What it maps: records (canonical constructor; {@link JsonInclude} NON_NULL on a component, {@link JsonFormat}
 * ARRAY with {@link JsonPropertyOrder} on a record type), String, int, long, double, boolean and their boxes,
 * enums by name, {@link Instant} as ISO-8601 text, {@code List<T>} (into a {@link Collect} sink where a component
 * names one) and {@code Map<String, T>}. Each mapper instance is one of the configurations below; what it refuses is
 * a {@link JsonDataException} naming the field by its path.
 */
public final class RecordJson {
    private final boolean strict;
    private final boolean failOnMissing;
    private final boolean numericInstants;
    private final boolean sorted;
    private final boolean indent;
    private final JsonFactory factory;
    /** Makes the sink of a {@link Collect} component, or null for the class's own no-argument constructor. */
    private final java.util.function.Function<Class<?>, ListSink<?>> sinks;

    /**
     * Builds a {@code List} component element by element while the parser reads it, instead of an {@code ArrayList}
     * that the record's constructor then copies: a manifest's chunk tables are packed as they are read, so a 1 GiB
     * image's 24,000 digests never exist as strings at once (docs/benchmarks.md, "Install peak RSS"). One instance per
     * list read; the class needs a no-argument constructor. What {@link #build} returns goes to the constructor.
     */
    public interface ListSink<E> {
        void add(E element);

        List<E> build();
    }

    /** On a record component of type {@code List<E>}: read it into a new {@code value()} ({@link ListSink}). */
    @java.lang.annotation.Retention(java.lang.annotation.RetentionPolicy.RUNTIME)
    @java.lang.annotation.Target(java.lang.annotation.ElementType.RECORD_COMPONENT)
    public @interface Collect {
        @SuppressWarnings("rawtypes")
        Class<? extends ListSink> value();
    }

    private RecordJson(boolean strict, boolean failOnMissing, boolean numericInstants, boolean sorted, boolean indent,
                       int maxDepth, int maxString) {
        this.strict = strict;
        this.failOnMissing = failOnMissing;
        this.numericInstants = numericInstants;
        this.sorted = sorted;
        this.indent = indent;
        JsonFactory f = JsonFactory.builder()
                .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                .streamReadConstraints(StreamReadConstraints.builder()
                        .maxNestingDepth(maxDepth).maxStringLength(maxString).maxNumberLength(32).build())
                .build();
        this.factory = f;
        this.sinks = c -> null;
    }

    private RecordJson(RecordJson base, java.util.function.Function<Class<?>, ListSink<?>> sinks) {
        this.strict = base.strict;
        this.failOnMissing = base.failOnMissing;
        this.numericInstants = base.numericInstants;
        this.sorted = base.sorted;
        this.indent = base.indent;
        this.factory = base.factory;
        this.sinks = sinks;
    }

    /**
     * This configuration with {@link Collect} sinks made by {@code sinks} (given the sink class named by the
     * annotation; null falls back to its no-argument constructor): sinks that need a context, such as a file
     * that a manifest's tables go to as they are parsed.
     */
    public RecordJson withSinks(java.util.function.Function<Class<?>, ListSink<?>> sinks) {
        return new RecordJson(this, sinks);
    }

    /**
     * Messages from another party (MQTT, a bundle): unknown fields, duplicate keys, null for a number, a number
     * where text belongs (or the reverse), a fraction where an integer belongs, trailing data and epoch-number
     * instants are all refused. Written with properties (and map keys when {@code sortedMaps}) in alphabetical order.
     */
    public static RecordJson strict(boolean failOnMissing, int maxDepth, int maxString) {
        return new RecordJson(true, failOnMissing, false, true, false, maxDepth, maxString);
    }

    /**
     * The agent's own files: unknown fields are skipped and missing ones are null, 0 or false (a newer or older
     * agent wrote it), instants also as epoch seconds; written indented, properties in declaration order.
     */
    public static RecordJson lenient() {
        return new RecordJson(false, false, true, false, true, 64, 16 * 1024 * 1024);
    }

    // ---------------------------------------------------------------- writing

    public byte[] write(Object value) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        try (JsonGenerator g = factory.createGenerator(out)) {
            if (indent) g.setPrettyPrinter(new DefaultPrettyPrinter());
            write(g, value);
        } catch (IOException e) {
            throw new IllegalStateException("cannot encode " + value.getClass().getSimpleName() + ": " + e.getMessage(), e);
        }
        return out.toByteArray();
    }

    private void write(JsonGenerator g, Object v) throws IOException {
        if (v == null) {
            g.writeNull();
        } else if (v instanceof String s) {
            g.writeString(s);
        } else if (v instanceof Integer i) {
            g.writeNumber(i);
        } else if (v instanceof Long l) {
            g.writeNumber(l);
        } else if (v instanceof Double d) {
            g.writeNumber(d);
        } else if (v instanceof Boolean b) {
            g.writeBoolean(b);
        } else if (v instanceof Enum<?> e) {
            g.writeString(e.name());
        } else if (v instanceof Instant t) {
            g.writeString(t.toString());
        } else if (v instanceof Map<?, ?> m) {
            g.writeStartObject();
            Map<?, ?> entries = sorted ? new TreeMap<>(m) : m;
            for (Map.Entry<?, ?> e : entries.entrySet()) {
                g.writeFieldName(String.valueOf(e.getKey()));
                write(g, e.getValue());
            }
            g.writeEndObject();
        } else if (v instanceof Collection<?> c) {
            g.writeStartArray();
            for (Object o : c) write(g, o);
            g.writeEndArray();
        } else if (v instanceof Record r) {
            Shape s = shape(r.getClass());
            if (s.asArray) {
                g.writeStartArray();
                for (Component c : s.written) write(g, c.get(r));
                g.writeEndArray();
            } else {
                g.writeStartObject();
                for (Component c : sorted ? s.alphabetical : s.written) {
                    Object value = c.get(r);
                    if (value == null && c.omitNull) continue;
                    g.writeFieldName(c.name);
                    write(g, value);
                }
                g.writeEndObject();
            }
        } else {
            throw new IllegalArgumentException("no JSON mapping for " + v.getClass().getName());
        }
    }

    // ---------------------------------------------------------------- reading

    /** Reads one {@code type} from {@code bytes}; nothing but whitespace may follow it. */
    public <T> T read(byte[] bytes, Class<T> type) throws JsonDataException {
        try (JsonParser p = factory.createParser(bytes)) {
            return whole(p, type);
        } catch (JsonDataException e) {
            throw e;
        } catch (IOException e) {
            // jackson-core's own refusals: malformed JSON, duplicate keys, nesting or length limits
            throw new JsonDataException("", firstLine(e.getMessage()));
        }
    }

    /**
     * As {@link #read(byte[], Class)}, as the bytes stream in (jackson-core reads them a buffer at a time); the caller
     * bounds the stream. JSON it refuses is a {@link JsonDataException}; the stream's own failures stay IOExceptions.
     */
    public <T> T read(java.io.InputStream in, Class<T> type) throws JsonDataException, IOException {
        try (JsonParser p = factory.createParser(in)) {
            return whole(p, type);
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new JsonDataException("", firstLine(e.getMessage()));
        }
    }

    /** One {@code type} and then the end of the input. */
    private <T> T whole(JsonParser p, Class<T> type) throws IOException {
        if (p.nextToken() == null) throw new JsonDataException("", "no JSON value (empty input)");
        T value = type.cast(read(p, type, ""));
        if (p.nextToken() != null) {
            throw new JsonDataException("", "trailing data after the JSON value, at byte " + p.currentTokenLocation().getByteOffset());
        }
        return value;
    }

    /**
     * The text of the top-level field {@code name}, or null when it is absent or not text. The whole input must be
     * one well-formed JSON object (else a {@link JsonDataException}: "not JSON: ..." or "not a JSON object").
     */
    public String topLevelText(byte[] bytes, String name) throws JsonDataException {
        String found = null;
        try (JsonParser p = factory.createParser(bytes)) {
            if (p.nextToken() != JsonToken.START_OBJECT) throw new JsonDataException("", "not a JSON object");
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                boolean wanted = name.equals(p.currentName());
                JsonToken t = p.nextToken();
                if (wanted && t == JsonToken.VALUE_STRING) found = p.getText();
                p.skipChildren();
            }
            if (p.nextToken() != null) throw new JsonDataException("", "not JSON: trailing data after the object");
        } catch (JsonDataException e) {
            throw e;
        } catch (IOException e) {
            throw new JsonDataException("", "not JSON: " + firstLine(e.getMessage()));
        }
        return found;
    }

    private Object read(JsonParser p, Type type, String path) throws IOException {
        Class<?> raw = raw(type);
        JsonToken t = p.currentToken();
        if (t == JsonToken.VALUE_NULL) {
            if (raw.isPrimitive()) {
                if (strict) throw new JsonDataException(path, "is null; a " + raw.getName() + " is required");
                return defaultOf(raw);
            }
            return null;
        }
        if (raw == String.class) return text(p, path);
        if (raw == int.class || raw == Integer.class) {
            long l = integer(p, path);
            if (l < Integer.MIN_VALUE || l > Integer.MAX_VALUE) throw new JsonDataException(path, l + " is out of range of a 32-bit integer");
            return (int) l;
        }
        if (raw == long.class || raw == Long.class) return integer(p, path);
        if (raw == double.class || raw == Double.class) {
            if (t == JsonToken.VALUE_NUMBER_INT || t == JsonToken.VALUE_NUMBER_FLOAT) return p.getDoubleValue();
            if (!strict && t == JsonToken.VALUE_STRING) return parse(path, p.getText(), Double::valueOf, "a number");
            throw mismatch(p, path, "a number");
        }
        if (raw == boolean.class || raw == Boolean.class) {
            if (t == JsonToken.VALUE_TRUE || t == JsonToken.VALUE_FALSE) return t == JsonToken.VALUE_TRUE;
            if (!strict && t == JsonToken.VALUE_STRING && ("true".equals(p.getText()) || "false".equals(p.getText()))) {
                return Boolean.valueOf(p.getText());
            }
            throw mismatch(p, path, "true or false");
        }
        if (raw == Instant.class) return instant(p, path);
        if (raw.isEnum()) {
            if (t != JsonToken.VALUE_STRING) throw mismatch(p, path, "one of " + Arrays.toString(raw.getEnumConstants()));
            for (Object c : raw.getEnumConstants()) {
                if (((Enum<?>) c).name().equals(p.getText())) return c;
            }
            throw new JsonDataException(path, "'" + clip(p.getText()) + "' is not one of " + Arrays.toString(raw.getEnumConstants()));
        }
        if (List.class.isAssignableFrom(raw) || raw == Collection.class) {
            if (t != JsonToken.START_ARRAY) throw mismatch(p, path, "an array");
            List<Object> list = new ArrayList<>();
            readArray(p, argument(type, 0), path, list::add);
            return list;
        }
        if (Map.class.isAssignableFrom(raw)) {
            if (t != JsonToken.START_OBJECT) throw mismatch(p, path, "an object");
            Type value = argument(type, 1);
            Map<String, Object> map = new LinkedHashMap<>();
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String key = p.currentName();
                p.nextToken();
                map.put(key, read(p, value, path + "." + key));
            }
            return map;
        }
        if (raw.isRecord()) return record(p, raw, path);
        throw new IllegalArgumentException("no JSON mapping for " + type.getTypeName() + " at " + path);
    }

    private interface Add {
        void add(Object element);
    }

    /** The elements of the array at the current START_ARRAY token, each handed to {@code add}. */
    private void readArray(JsonParser p, Type element, String path, Add add) throws IOException {
        for (int n = 0; p.nextToken() != JsonToken.END_ARRAY; n++) add.add(read(p, element, path + "[" + n + "]"));
    }

    /** A component's value; a {@link Collect} list goes into its sink as it is read. */
    private Object component(JsonParser p, Component c, String path) throws IOException {
        if (c.sink == null || p.currentToken() != JsonToken.START_ARRAY) return read(p, c.type, path);
        @SuppressWarnings("unchecked")
        ListSink<Object> made = (ListSink<Object>) sinks.apply(c.sink.getDeclaringClass());
        ListSink<Object> sink = made != null ? made : c.newSink();
        readArray(p, argument(c.type, 0), path, sink::add);
        return sink.build();
    }

    private Object record(JsonParser p, Class<?> type, String path) throws IOException {
        Shape s = shape(type);
        Object[] args = new Object[s.byPosition.length];
        boolean[] seen = new boolean[args.length];
        String prefix = path.isEmpty() ? "" : path + ".";
        if (s.asArray) {
            if (p.currentToken() != JsonToken.START_ARRAY) throw mismatch(p, path, "an array of " + s.written.size() + " values");
            int i = 0;
            while (p.nextToken() != JsonToken.END_ARRAY) {
                if (i >= s.written.size()) throw new JsonDataException(path, "has more than " + s.written.size() + " values");
                Component c = s.written.get(i++);
                args[c.position] = component(p, c, path + "[" + (i - 1) + "]");
                seen[c.position] = true;
            }
        } else {
            if (p.currentToken() != JsonToken.START_OBJECT) throw mismatch(p, path, "an object");
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                Component c = s.byName.get(name);
                p.nextToken();
                if (c == null) {
                    if (strict) {
                        throw new JsonDataException(prefix + name, "is not a field of " + type.getSimpleName() + " (known: " + s.byName.keySet() + ")");
                    }
                    p.skipChildren();
                    continue;
                }
                args[c.position] = component(p, c, prefix + name);
                seen[c.position] = true;
            }
        }
        for (Component c : s.byPosition) {
            if (seen[c.position]) continue;
            if (failOnMissing && !c.omitNull) throw new JsonDataException(prefix + c.name, "is missing");
            args[c.position] = defaultOf(raw(c.type));
        }
        try {
            return s.constructor.newInstance(args);
        } catch (InvocationTargetException e) {
            // e.g. List.copyOf in a compact constructor meeting [null]: the cause's message alone may be null
            throw new JsonDataException(path, type.getSimpleName() + " refused its values: " + e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot construct " + type.getName(), e);
        }
    }

    private String text(JsonParser p, String path) throws IOException {
        JsonToken t = p.currentToken();
        if (t == JsonToken.VALUE_STRING) return p.getText();
        if (!strict && t.isScalarValue()) return p.getText();
        throw mismatch(p, path, "text");
    }

    private long integer(JsonParser p, String path) throws IOException {
        JsonToken t = p.currentToken();
        if (t == JsonToken.VALUE_NUMBER_INT) {
            if (p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) throw new JsonDataException(path, p.getText() + " is out of range of a 64-bit integer");
            return p.getLongValue();
        }
        if (!strict && t == JsonToken.VALUE_NUMBER_FLOAT) return (long) p.getDoubleValue();
        if (!strict && t == JsonToken.VALUE_STRING) return parse(path, p.getText().trim(), Long::valueOf, "an integer");
        throw mismatch(p, path, "an integer");
    }

    private Instant instant(JsonParser p, String path) throws IOException {
        JsonToken t = p.currentToken();
        if (t == JsonToken.VALUE_STRING) {
            try {
                return Instant.parse(p.getText());
            } catch (DateTimeParseException e) {
                throw new JsonDataException(path, "'" + clip(p.getText()) + "' is not an ISO-8601 instant such as 2026-01-31T22:00:00Z");
            }
        }
        if (numericInstants && t == JsonToken.VALUE_NUMBER_INT) return Instant.ofEpochSecond(p.getLongValue());
        if (numericInstants && t == JsonToken.VALUE_NUMBER_FLOAT) {
            java.math.BigDecimal d = p.getDecimalValue();
            long seconds = d.longValue();
            return Instant.ofEpochSecond(seconds, d.subtract(java.math.BigDecimal.valueOf(seconds)).movePointRight(9).longValue());
        }
        throw mismatch(p, path, "an ISO-8601 instant as text");
    }

    private interface Parse<T> {
        T apply(String s);
    }

    private static <T> T parse(String path, String s, Parse<T> f, String what) throws JsonDataException {
        try {
            return f.apply(s);
        } catch (RuntimeException e) {
            throw new JsonDataException(path, "'" + clip(s) + "' is not " + what);
        }
    }

    private static JsonDataException mismatch(JsonParser p, String path, String expected) throws IOException {
        JsonToken t = p.currentToken();
        String got = switch (t) {
            case START_OBJECT -> "an object";
            case START_ARRAY -> "an array";
            case VALUE_STRING -> "text '" + clip(p.getText()) + "'";
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "the number " + clip(p.getText());
            case VALUE_TRUE, VALUE_FALSE -> p.getText();
            default -> t.toString();
        };
        return new JsonDataException(path, "is " + got + "; expected " + expected);
    }

    private static Object defaultOf(Class<?> raw) {
        if (raw == int.class) return 0;
        if (raw == long.class) return 0L;
        if (raw == double.class) return 0.0;
        if (raw == boolean.class) return false;
        return null;
    }

    private static Class<?> raw(Type t) {
        if (t instanceof Class<?> c) return c;
        if (t instanceof ParameterizedType pt) return (Class<?>) pt.getRawType();
        throw new IllegalArgumentException("no JSON mapping for " + t.getTypeName());
    }

    private static Type argument(Type t, int i) {
        if (t instanceof ParameterizedType pt) return pt.getActualTypeArguments()[i];
        throw new IllegalArgumentException("a collection's element type must be declared: " + t.getTypeName());
    }

    static String clip(String s) {
        return s.length() > 80 ? s.substring(0, 80) + "..." : s;
    }

    private static String firstLine(String s) {
        if (s == null) return "";
        int nl = s.indexOf('\n');
        return clip(nl < 0 ? s : s.substring(0, nl));
    }

    // ---------------------------------------------------------------- record shapes

    private record Component(String name, Type type, int position, Method accessor, boolean omitNull, Constructor<?> sink) {
        @SuppressWarnings("unchecked")
        ListSink<Object> newSink() {
            try {
                return (ListSink<Object>) sink.newInstance();
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException("cannot make the list sink " + sink.getDeclaringClass().getName() + " of " + name, e);
            }
        }

        Object get(Record r) {
            try {
                return accessor.invoke(r);
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException("cannot read " + name + " of " + r.getClass().getName(), e);
            }
        }
    }

    private record Shape(Constructor<?> constructor, Component[] byPosition, Map<String, Component> byName, List<Component> written,
                         List<Component> alphabetical, boolean asArray) {}

    private static final Map<Class<?>, Shape> SHAPES = new ConcurrentHashMap<>();

    private static Shape shape(Class<?> type) {
        return SHAPES.computeIfAbsent(type, RecordJson::shapeOf);
    }

    private static Shape shapeOf(Class<?> type) {
        RecordComponent[] rc = type.getRecordComponents();
        Component[] comps = new Component[rc.length];
        Class<?>[] types = new Class<?>[rc.length];
        Map<String, Component> byName = new LinkedHashMap<>();
        for (int i = 0; i < rc.length; i++) {
            Method accessor = rc[i].getAccessor();
            // Jackson's annotations do not target record components; javac carries them to the accessor.
            JsonInclude inc = accessor.getAnnotation(JsonInclude.class);
            accessor.setAccessible(true);
            Collect collect = rc[i].getAnnotation(Collect.class);
            Constructor<?> sink = null;
            if (collect != null) {
                try {
                    sink = collect.value().getDeclaredConstructor();
                    sink.setAccessible(true);
                } catch (NoSuchMethodException e) {
                    throw new IllegalStateException("list sink " + collect.value().getName() + " has no no-argument constructor", e);
                }
            }
            comps[i] = new Component(rc[i].getName(), rc[i].getGenericType(), i, accessor,
                    inc != null && inc.value() == JsonInclude.Include.NON_NULL, sink);
            types[i] = rc[i].getType();
            byName.put(comps[i].name, comps[i]);
        }
        List<Component> written = new ArrayList<>(List.of(comps));
        JsonPropertyOrder order = type.getAnnotation(JsonPropertyOrder.class);
        if (order != null) {
            List<String> names = List.of(order.value());
            written.sort(Comparator.comparingInt(c -> names.contains(c.name) ? names.indexOf(c.name) : names.size() + c.position));
        }
        List<Component> alphabetical = new ArrayList<>(written);
        if (order == null) alphabetical.sort(Comparator.comparing(Component::name));
        JsonFormat format = type.getAnnotation(JsonFormat.class);
        try {
            Constructor<?> ctor = type.getDeclaredConstructor(types);
            ctor.setAccessible(true);
            return new Shape(ctor, comps, byName, List.copyOf(written), List.copyOf(alphabetical),
                    format != null && format.shape() == JsonFormat.Shape.ARRAY);
        } catch (NoSuchMethodException e) {
            throw new IllegalStateException("record " + type.getName() + " has no canonical constructor", e);
        }
    }
}
