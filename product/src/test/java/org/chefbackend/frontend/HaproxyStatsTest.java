package org.chefbackend.frontend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class HaproxyStatsTest {
    static final String HEADER = "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,"
            + "wretr,wredis,status,weight,act,bck,\n";
    static final List<String> BACKENDS = List.of("chef_backend_postgresql", "chef_backend_elasticsearch");

    static String line(String px, String sv, String status) {
        return px + "," + sv + ",0,0,0,0,,0,0,0,,0,,0,0,0,0," + status + ",1,1,0,\n";
    }

    @Test
    void oneUpServerInEachBackendIsTheActiveOne() {
        HaproxyStats s = HaproxyStats.parse(HEADER
                + line("postgresql", "FRONTEND", "OPEN")
                + line("chef_backend_postgresql", "a", "DOWN")
                + line("chef_backend_postgresql", "b", "UP")
                + line("chef_backend_postgresql", "c", "DOWN")
                + line("chef_backend_postgresql", "BACKEND", "UP")
                + line("chef_backend_elasticsearch", "a", "DOWN")
                + line("chef_backend_elasticsearch", "b", "UP 1/1")
                + line("chef_backend_elasticsearch", "c", "MAINT")
                + line("chef_backend_elasticsearch", "BACKEND", "UP") + "\n");
        assertEquals(Map.of("chef_backend_postgresql", List.of("b"), "chef_backend_elasticsearch", List.of("b")),
                s.upByBackend());
        assertEquals(Optional.of("b"), s.singleActive(BACKENDS));
        assertEquals(6, s.servers().size());
    }

    @Test
    void twoUpServersOrNoneOrDifferentOnesAreNotHealthy() {
        String two = HEADER + line("chef_backend_postgresql", "a", "UP") + line("chef_backend_postgresql", "b", "UP")
                + line("chef_backend_elasticsearch", "a", "UP");
        assertEquals(Optional.empty(), HaproxyStats.parse(two).singleActive(BACKENDS));
        String none = HEADER + line("chef_backend_postgresql", "a", "DOWN") + line("chef_backend_elasticsearch", "a", "DOWN");
        assertEquals(Optional.empty(), HaproxyStats.parse(none).singleActive(BACKENDS));
        String split = HEADER + line("chef_backend_postgresql", "a", "UP") + line("chef_backend_elasticsearch", "b", "UP");
        assertEquals(Optional.empty(), HaproxyStats.parse(split).singleActive(BACKENDS));
        String missing = HEADER + line("chef_backend_postgresql", "a", "UP");
        assertEquals(Optional.empty(), HaproxyStats.parse(missing).singleActive(BACKENDS));
    }

    @Test
    void somethingElseIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> HaproxyStats.parse("Unknown command.\n"));
        assertThrows(IllegalArgumentException.class, () -> HaproxyStats.parse("# a,b,c\n"));
        assertThrows(IllegalArgumentException.class, () -> HaproxyStats.parse(HEADER + "x,y\n"));
    }

    @Test
    void theLastHealthCheckIsKept() {
        HaproxyStats s = HaproxyStats.parse("# pxname,svname,status,check_status,last_chk\n"
                + "chef_backend_postgresql,a,DOWN,L7STS,503\nchef_backend_postgresql,b,UP,L7OK,200\n");
        assertEquals("L7STS 503", s.servers().get(0).lastCheck());
        assertEquals("L7OK 200", s.servers().get(1).lastCheck());
    }
}
