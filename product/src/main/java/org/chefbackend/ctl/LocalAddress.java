package org.chefbackend.ctl;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import org.chefbackend.system.OperatorException;

/** Whether an address belongs to this machine: the kernel lets us bind it. */
final class LocalAddress {
    private LocalAddress() {
    }

    static void require(String address) {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress(InetAddress.getByName(address), 0));
        } catch (IOException e) {
            throw OperatorException.usage("publish address " + address + " is not an address of this machine");
        }
    }
}
