"""The PyQt5 window of gam-gui: a thin layer over the Qt-free core (``gam_gui.analysis``, ``render``,
``sources``, ``export``). ``gam_gui.ui.app.run`` is what ``gam-gui`` calls."""
