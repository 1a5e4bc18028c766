package rsuota.fleet.link;

/** A broker the controller started itself (embedded); an external one is only a URI. */
public interface MqttBroker extends AutoCloseable {
    /** tcp://host:port */
    String uri();

    @Override
    void close();
}
