// placeholder until the GatewayConfig layer lands
