// placeholder until the GatewayCore layer lands
