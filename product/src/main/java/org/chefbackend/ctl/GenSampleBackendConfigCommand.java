package org.chefbackend.ctl;

import java.net.Inet4Address;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.Callable;
import org.chefbackend.config.MachineFacts;
import org.chefbackend.config.SampleConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "gen-sample-backend-config", mixinStandardHelpOptions = true,
        description = "Print a complete chef-backend.rb with every option and its default for this machine.")
final class GenSampleBackendConfigCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().getOut().print(SampleConfig.render(MachineFacts.detect(), localAddresses()));
        spec.commandLine().getOut().flush();
        return 0;
    }

    /** Non-loopback IPv4 addresses, as hints for publish_address (the original printed one it detected). */
    static List<String> localAddresses() {
        List<String> out = new ArrayList<>();
        try {
            for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                if (nic.isLoopback() || !nic.isUp()) {
                    continue;
                }
                Collections.list(nic.getInetAddresses()).stream()
                        .filter(a -> a instanceof Inet4Address)
                        .forEach(a -> out.add(a.getHostAddress()));
            }
        } catch (SocketException e) {
            // no hints then
        }
        return out;
    }
}
