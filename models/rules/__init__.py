"""Rules of the Code de la commande publique and checks of outside input: plain functions."""
