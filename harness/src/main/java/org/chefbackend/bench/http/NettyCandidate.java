package org.chefbackend.bench.http;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.timeout.ReadTimeoutHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.chefbackend.api.AdminAuth;
import org.chefbackend.api.AgentApi;
import org.chefbackend.api.AgentHttpServer;

/**
 * Netty 4.1: one event loop reads every connection without blocking; routes run on {@code threads} workers, since
 * /status and the admin calls block. The read timeout here also ends a long admin call, which the product could not
 * accept; it is close enough for the measurement.
 */
final class NettyCandidate implements ProbedServer {
    private final InetSocketAddress address;
    private final AgentApi api;
    private final EventLoopGroup loop = new NioEventLoopGroup(1, new DefaultThreadFactory("http-io", true));
    private final ExecutorService workers;
    private Channel channel;

    NettyCandidate(InetSocketAddress address, int threads, AgentHttpServer.Node node) {
        this.address = address;
        this.api = new AgentApi(node);
        this.workers = Executors.newFixedThreadPool(threads, new DefaultThreadFactory("http", true));
    }

    @Override
    public int start() throws InterruptedException {
        channel = new ServerBootstrap().group(loop).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new ReadTimeoutHandler(10), new HttpServerCodec(),
                                new HttpObjectAggregator(1 << 20), new Routes());
                    }
                }).bind(address).sync().channel();
        return ((InetSocketAddress) channel.localAddress()).getPort();
    }

    @Override
    public void stop() throws InterruptedException {
        channel.close().sync();
        loop.shutdownGracefully(0, 2, TimeUnit.SECONDS).sync();
        workers.shutdownNow();
    }

    private final class Routes extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close(); // a client gone mid-request (the probe's half-sent ones): nothing to answer
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            FullHttpRequest kept = request.retainedDuplicate();
            workers.execute(() -> {
                try {
                    AgentApi.Reply reply = api.answer(kept.method().name(), new QueryStringDecoder(kept.uri()).path(),
                            kept.headers()::get, () -> ByteBufUtil.getBytes(kept.content()),
                            AdminAuth.target((InetSocketAddress) ctx.channel().localAddress()));
                    FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                            HttpResponseStatus.valueOf(reply.status()), Unpooled.wrappedBuffer(reply.body()));
                    response.headers().set(HttpHeaderNames.CONTENT_TYPE, reply.contentType());
                    response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, reply.body().length);
                    boolean keepAlive = HttpUtil.isKeepAlive(kept);
                    HttpUtil.setKeepAlive(response, keepAlive);
                    var written = ctx.writeAndFlush(response);
                    if (!keepAlive) {
                        written.addListener(ChannelFutureListener.CLOSE);
                    }
                } catch (IOException e) {
                    ctx.close();
                } finally {
                    kept.release();
                }
            });
        }
    }
}
