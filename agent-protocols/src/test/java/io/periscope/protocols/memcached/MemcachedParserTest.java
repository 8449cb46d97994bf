package io.periscope.protocols.memcached;

import io.periscope.protocols.L7Protocol;
import io.periscope.protocols.RequestLog;
import io.periscope.protocols.StatusClass;
import io.periscope.protocols.testing.EngineHarness;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class MemcachedParserTest {
    @Test
    void shouldReportHitsAndMissesOfPipelinedGets() {
        EngineHarness h = new EngineHarness()
                .request("get a b c\r\ngets missing\r\n")
                .response("VALUE a 0 3\r\nxyz\r\nVALUE c 5 1\r\n")
                .response("q\r\nEND\r\nEND\r\n");
        assertThat(h.logs()).hasSize(2);
        RequestLog multi = h.logs().get(0);
        assertThat(multi.protocol()).isEqualTo(L7Protocol.MEMCACHED);
        assertThat(multi.method().toString()).isEqualTo("get");
        assertThat(multi.resource().toString()).isEqualTo("a b c");
        assertThat(multi.attribute(MemcachedParser.HITS).toString()).isEqualTo("2");
        assertThat(multi.responseBytes()).isEqualTo("VALUE a 0 3\r\nxyz\r\nVALUE c 5 1\r\nq\r\nEND\r\n".length());
        assertThat(h.logs().get(1).attribute(MemcachedParser.HITS).toString()).isEqualTo("0");
        assertThat(h.logs().get(1).statusClass()).isEqualTo(StatusClass.OK);
    }

    @Test
    void shouldSkipDataBlocksOfStorageCommandsAcrossMessages() {
        String value = "v".repeat(10_000);
        EngineHarness h = new EngineHarness()
                .request("set big 0 0 10000\r\n" + value.substring(0, 4000))
                .request(value.substring(4000) + "\r\nadd big 0 0 1 noreply\r\nx\r\nincr n 5\r\n")
                .response("STORED\r\n6\r\n");
        // the noreply add is reported as soon as it is read; STORED still pairs with the set
        assertThat(h.logs()).extracting(l -> l.method().toString()).containsExactly("add", "set", "incr");
        assertThat(h.logs().get(1).requestBytes()).isEqualTo(19 + 10_002);
        assertThat(h.logs().get(1).responseBytes()).isEqualTo(8);
        assertThat(h.logs().get(0).durationNanos()).isZero();
    }

    @Test
    void shouldReportErrors() {
        EngineHarness h = new EngineHarness()
                .request("delete k\r\ntouch k 10\r\nincr s 1\r\nbogus\r\nget x\r\n")
                .response("NOT_FOUND\r\nTOUCHED\r\nCLIENT_ERROR cannot increment or decrement non-numeric value\r\n"
                        + "ERROR\r\nSERVER_ERROR out of memory\r\n");
        assertThat(h.logs()).extracting(RequestLog::statusClass).containsExactly(StatusClass.OK, StatusClass.OK,
                StatusClass.CLIENT_ERROR, StatusClass.CLIENT_ERROR, StatusClass.SERVER_ERROR);
        assertThat(h.logs().get(2).errorMessage().toString())
                .isEqualTo("cannot increment or decrement non-numeric value");
        assertThat(h.logs().get(4).errorMessage().toString()).isEqualTo("out of memory");
    }

    @Test
    void shouldFrameMetaCommandsAndStats() {
        EngineHarness h = new EngineHarness()
                .request("mg foo v\r\nmg bar v\r\nms foo 2\r\nhi\r\nstats\r\n")
                .response("VA 3\r\nabc\r\nEN\r\nHD\r\nSTAT pid 1\r\nSTAT uptime 5\r\nEND\r\n");
        assertThat(h.logs()).extracting(l -> l.method().toString()).containsExactly("mg", "mg", "ms", "stats");
        assertThat(h.logs().get(0).attribute(MemcachedParser.HITS).toString()).isEqualTo("1");
        assertThat(h.logs().get(1).attribute(MemcachedParser.HITS).toString()).isEqualTo("0");
        assertThat(h.engine().pendingCount()).isZero();
    }

    @Test
    void shouldNotClaimHttpOrBinary() {
        EngineHarness h = new EngineHarness().request("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
        assertThat(h.engine().counters().inferred(L7Protocol.MEMCACHED)).isZero();
        EngineHarness h2 = new EngineHarness().request("set k x y z\r\n");
        assertThat(h2.engine().counters().inferred(L7Protocol.MEMCACHED)).isZero();
    }
}
