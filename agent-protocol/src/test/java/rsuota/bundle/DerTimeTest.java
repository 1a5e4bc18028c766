package rsuota.bundle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.time.Instant;
import java.util.Date;
import org.bouncycastle.asn1.ASN1GeneralizedTime;
import org.bouncycastle.asn1.ASN1UTCTime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** A CMS signingTime read from its DER digits (not through SimpleDateFormat), agreeing with BouncyCastle's own reading. */
class DerTimeTest {
    @ParameterizedTest
    @ValueSource(strings = {"1950-01-01T00:00:00Z", "1999-12-31T23:59:59Z", "2026-12-04T16:20:05Z", "2049-12-31T23:59:59Z"})
    void aUtcTimeIsTheInstantBouncyCastleReadsIncludingTheCenturyRule(String at) throws Exception {
        Instant t = Instant.parse(at);
        ASN1UTCTime utc = new ASN1UTCTime(Date.from(t));
        assertThat(CmsVerifier.derTime(utc)).isEqualTo(t).isEqualTo(utc.getAdjustedDate().toInstant());
    }

    @Test
    void aGeneralizedTimeKeepsItsFraction() throws Exception {
        assertThat(CmsVerifier.derTime(new ASN1GeneralizedTime("20510704120000.25Z"))).isEqualTo(Instant.parse("2051-07-04T12:00:00.250Z"));
        assertThat(CmsVerifier.derTime(new ASN1GeneralizedTime("20260101000000Z"))).isEqualTo(Instant.parse("2026-01-01T00:00:00Z"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"2601010000Z", "260101000000+0100", "261301000000Z", "260230000000Z"})
    void aUtcTimeThatIsNotDerOrNotADateIsRefusedNamingIt(String text) {
        assertThatThrownBy(() -> CmsVerifier.derTime(new ASN1UTCTime(text))).isInstanceOf(IOException.class).hasMessageContaining(text);
    }

    @Test
    void aGeneralizedTimeWithALocalOffsetIsNotDerAndIsRefusedNamingIt() {
        assertThatThrownBy(() -> CmsVerifier.derTime(new ASN1GeneralizedTime("20260101000000+0100")))
                .isInstanceOf(IOException.class).hasMessageContaining("20260101000000+0100");
    }
}
