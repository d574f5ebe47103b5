// placeholder until the GatewayTLS layer lands
